"""Deleting from Rasa's SQL tracker store (the `events` table) with SQLAlchemy Core, and
the fingerprint that tells the store's in-memory copies whether anything was deleted.

Shared by the erasing tracker store and the retention purge. Works on SQLite and PostgreSQL:
deletes are `DELETE ... WHERE id IN (SELECT ... LIMIT n)`, so each batch is one short
transaction whatever the size of the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# The columns the purge needs of rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6).
metadata = sa.MetaData()
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
)
SESSION_STARTED = "session_started"


def tracker_engine(url: str) -> Engine:
    """An engine on the tracker store's database that waits for the Rasa server's SQLite
    locks, and gives up on a PostgreSQL server that does not answer in 5 s."""
    if url.startswith("sqlite"):
        return sa.create_engine(
            url, future=True, connect_args={"timeout": 30, "check_same_thread": False}
        )
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return sa.create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def fingerprint(db: Connection, sender_id: str) -> tuple[int, int | None]:
    """How many events one conversation has and its highest event id."""
    query = sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id)).where(
        events.c.sender_id == sender_id
    )
    count, highest = db.execute(query).one()
    return int(count), highest


def erase_sender(db: Connection, sender_id: str) -> int:
    """Delete every event of one conversation; how many there were."""
    return int(db.execute(events.delete().where(events.c.sender_id == sender_id)).rowcount or 0)


@dataclass
class TrackerPurge:
    events_deleted: int = 0
    conversations_deleted: int = 0


def expired_events(cutoff: float) -> sa.sql.Select:
    """Ids of events older than `cutoff` that no conversation in progress needs.

    An event goes when it is older than the cutoff and either its whole conversation has
    been idle since before the cutoff, or it belongs to an earlier session than the
    conversation's latest one. Rasa only ever reads and counts the latest session (from its
    last `session_started` event), so removing earlier sessions never upsets what it saves
    next; the latest session of a conversation still in use is kept whole.
    """
    row, other = events.alias("expired"), events.alias("same_sender")
    last_activity = (
        sa.select(sa.func.coalesce(sa.func.max(other.c.timestamp), 0.0))
        .where(other.c.sender_id == row.c.sender_id)
        .scalar_subquery()
    )
    latest_session = (
        sa.select(sa.func.max(other.c.timestamp))
        .where(other.c.sender_id == row.c.sender_id, other.c.type_name == SESSION_STARTED)
        .scalar_subquery()
    )
    age = sa.func.coalesce(row.c.timestamp, 0.0)
    return sa.select(row.c.id).where(
        age < cutoff, sa.or_(last_activity < cutoff, age < latest_session)
    )


def idle_conversations(db: Connection, cutoff: float) -> int:
    """How many conversations have had nothing since before the cutoff."""
    idle = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.coalesce(sa.func.max(events.c.timestamp), 0.0) < cutoff)
        .subquery()
    )
    return int(db.execute(sa.select(sa.func.count()).select_from(idle)).scalar_one())


def purge(engine: Engine, cutoff: float, batch_size: int) -> TrackerPurge:
    """Delete expired events in batches, each its own transaction."""
    result = TrackerPurge()
    if not sa.inspect(engine).has_table(events.name):
        return result  # Rasa has not created its table yet: nothing was ever stored
    with engine.connect() as db:
        result.conversations_deleted = idle_conversations(db, cutoff)
    batch = expired_events(cutoff).limit(batch_size)
    while True:
        with engine.begin() as db:
            deleted = int(db.execute(events.delete().where(events.c.id.in_(batch))).rowcount or 0)
        result.events_deleted += deleted
        if deleted < batch_size:
            return result
