"""Deleting an applicant's records from the recruiter desk's database.

What goes with a handoff: its messages and notes, and any row of another desk table that
refers to it (found from the foreign keys, so tables added later are covered). The audit
log keeps one "erased" or "purged" entry that names no applicant: recruiters' actions stay
accountable after the personal data is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from desk.storage import audit, handoffs, messages, metadata


@dataclass
class DeskPurge:
    handoffs_deleted: int = 0
    rows_deleted: int = 0  # messages, notes and other rows that belonged to those handoffs


def _dependents() -> List[sa.Table]:
    """Desk tables whose rows belong to a handoff (a foreign key to desk_handoffs.id)."""
    return [
        table
        for table in metadata.sorted_tables
        if table is not handoffs
        and table is not audit
        and any(key.column is handoffs.c.id for key in table.foreign_keys)
    ]


def _delete_handoffs(db: Connection, ids: List[int]) -> DeskPurge:
    """Delete these handoffs and every row that belongs to them."""
    done = DeskPurge()
    if not ids:
        return done
    for table in _dependents():
        for key in table.foreign_keys:
            if key.column is handoffs.c.id:
                deleted = db.execute(table.delete().where(key.parent.in_(ids))).rowcount
                done.rows_deleted += int(deleted or 0)
    done.handoffs_deleted = int(
        db.execute(handoffs.delete().where(handoffs.c.id.in_(ids))).rowcount or 0
    )
    return done


def has_desk_tables(engine: Engine) -> bool:
    return sa.inspect(engine).has_table(handoffs.name)


def erase_sender(engine: Engine, sender_id: str, now: float) -> DeskPurge:
    """Everything the desk holds from one applicant, in one transaction (all or nothing)."""
    if not has_desk_tables(engine):
        return DeskPurge()
    with engine.begin() as db:
        chosen = sa.select(handoffs.c.id).where(handoffs.c.sender_id == sender_id)
        ids = [int(row[0]) for row in db.execute(chosen)]
        done = _delete_handoffs(db, ids)
        for handoff_id in ids:
            db.execute(
                audit.insert().values(
                    at=now,
                    actor="assistant",
                    action="erased",
                    handoff_id=handoff_id,
                    detail="at the applicant's request",
                )
            )
    return done


def purge(engine: Engine, cutoff: float, batch_size: int, now: float, days: str) -> DeskPurge:
    """Delete handoffs with no activity since `cutoff`, in batches of `batch_size`.

    A handoff's last activity is the latest of its creation, claim, close and any message
    or note on it. An open handoff untouched for the whole retention goes too: its
    conversation is purged from the tracker store at the same time.
    """
    total = DeskPurge()
    if not has_desk_tables(engine):
        return total
    last_message = (
        sa.select(sa.func.max(messages.c.created_at))
        .where(messages.c.handoff_id == handoffs.c.id)
        .scalar_subquery()
    )
    expired = (
        sa.select(handoffs.c.id)
        .where(
            handoffs.c.created_at < cutoff,
            sa.func.coalesce(handoffs.c.claimed_at, 0.0) < cutoff,
            sa.func.coalesce(handoffs.c.closed_at, 0.0) < cutoff,
            sa.func.coalesce(last_message, 0.0) < cutoff,
        )
        .order_by(handoffs.c.id)
        .limit(batch_size)
    )
    while True:
        with engine.begin() as db:
            done = _delete_handoffs(db, [int(row[0]) for row in db.execute(expired)])
        total.handoffs_deleted += done.handoffs_deleted
        total.rows_deleted += done.rows_deleted
        if done.handoffs_deleted < batch_size:
            break
    if total.handoffs_deleted:
        with engine.begin() as db:
            db.execute(
                audit.insert().values(
                    at=now,
                    actor="purge",
                    action="purged",
                    handoff_id=None,
                    detail=f"{total.handoffs_deleted} handoffs inactive for over {days} days",
                )
            )
    return total
