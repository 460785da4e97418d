"""Trainers' decisions on inbox messages and recruiters' training flags, in the desk's database.

A decision is keyed by the hash of the message's normalised, redacted text, so the message and
its near-duplicates stay out of the inbox once a trainer has labelled or ignored it. Only
redacted text is stored. The tables are defined in desk/storage.py with the desk's others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from desk.storage import audit
from desk.storage import training_decisions as decisions
from desk.storage import training_flags as flags

LABELLED, NEW_TOPIC, IGNORED = "labelled", "new topic", "ignored"
DECISIONS = (LABELLED, NEW_TOPIC, IGNORED)
ROLES = ("recruiter", "trainer")
RECRUITER, TRAINER = ROLES
# Two timestamps closer than this are the same message (JSON round trips shave digits).
SAME_MOMENT_S = 0.002


@dataclass(frozen=True)
class Decision:
    text_hash: str
    text: str
    decision: str
    topic: str | None
    actor: str
    at: float


@dataclass(frozen=True)
class Flag:
    sender_id: str
    message_at: float
    text: str
    handoff_id: int | None
    flagged_by: str
    at: float


def has_tables(engine: Engine) -> bool:
    """False before the desk's migrations have run on this database (then nothing is decided)."""
    return bool(sa.inspect(engine).has_table(decisions.name))


class TrainingStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def decide(self, decision: Decision) -> Decision | None:
        """Record a decision and its audit entry; the earlier decision if one exists already."""
        try:
            with self.engine.begin() as db:
                db.execute(decisions.insert().values(**decision.__dict__))
                db.execute(
                    audit.insert().values(
                        at=decision.at,
                        actor=decision.actor,
                        action=f"training {decision.decision}",
                        handoff_id=None,
                        detail=_detail(decision.topic, decision.text),
                    )
                )
        except IntegrityError:
            return self.decision(decision.text_hash)
        return None

    def decision(self, text_hash: str) -> Decision | None:
        with self.engine.connect() as db:
            row = (
                db.execute(decisions.select().where(decisions.c.text_hash == text_hash))
                .mappings()
                .first()
            )
        return _decision(row) if row else None

    def decisions(self) -> List[Decision]:
        if not has_tables(self.engine):
            return []
        with self.engine.connect() as db:
            rows = db.execute(decisions.select().order_by(decisions.c.id)).mappings()
            return [_decision(row) for row in rows]

    def flag(self, flag: Flag) -> bool:
        """Flag an applicant's message for training, with an audit entry; False if it was."""
        try:
            with self.engine.begin() as db:
                db.execute(flags.insert().values(**flag.__dict__))
                db.execute(
                    audit.insert().values(
                        at=flag.at,
                        actor=flag.flagged_by,
                        action="flagged for training",
                        handoff_id=flag.handoff_id,
                        detail=_detail(None, flag.text),
                    )
                )
        except IntegrityError:
            return False
        return True

    def flags(self, since: float | None = None) -> List[Flag]:
        """Flags on messages sent since `since` (epoch seconds), oldest first."""
        if not has_tables(self.engine):
            return []
        query = flags.select().order_by(flags.c.message_at)
        if since is not None:
            query = query.where(flags.c.message_at >= since)
        with self.engine.connect() as db:
            return [_flag(row) for row in db.execute(query).mappings()]


def _detail(topic: str | None, text: str) -> str:
    shown = text if len(text) <= 200 else text[:199] + "…"
    return f"{topic}: {shown}" if topic else shown


def _decision(row: Dict[str, Any] | Any) -> Decision:
    return Decision(
        text_hash=row["text_hash"],
        text=row["text"],
        decision=row["decision"],
        topic=row["topic"],
        actor=row["actor"],
        at=row["at"],
    )


def _flag(row: Dict[str, Any] | Any) -> Flag:
    return Flag(
        sender_id=row["sender_id"],
        message_at=row["message_at"],
        text=row["text"],
        handoff_id=row["handoff_id"],
        flagged_by=row["flagged_by"],
        at=row["at"],
    )
