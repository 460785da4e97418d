"""The insights tables: anonymous daily figures, and a short-lived ledger behind them.

The ledger holds one row per conversation (and per handoff) of the days still open, keyed by
an event id or a handoff id, never a sender id, so a late event or an erasure can change that
day's figures. When a day closes (RETENTION_DAYS minus a margin: before the purge can touch
its conversations) its ledger rows are deleted and only the daily counts remain.

These tables belong to the insights package; they live in the desk's database by default
(INSIGHTS_DATABASE_URL moves them) and are created on first use.
"""

from __future__ import annotations

from typing import Dict, Iterable, List

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from desk.insights.conversations import Conversation

metadata = sa.MetaData()


def _day_channel(*columns: sa.Column) -> List[sa.Column]:
    return [
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        *columns,
    ]


def _counts(*names: str) -> List[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False, default=0) for name in names]


MESSAGE_KINDS = ("off_topic", "not_understood", "did_you_mean", "safety")

conversations = sa.Table(
    "insights_conversations",
    metadata,
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    *_counts("messages", "handed_off", *MESSAGE_KINDS),
)
conversation_topics = sa.Table(
    "insights_conversation_topics",
    metadata,
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("topic", sa.String(100), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    *_counts("messages"),
)
conversation_searches = sa.Table(
    "insights_conversation_searches",
    metadata,
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("job_family", sa.String(100), primary_key=True),
    sa.Column("location", sa.String(100), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    *_counts("searches", "empty"),
)
daily = sa.Table(
    "insights_daily",
    metadata,
    *_day_channel(
        *_counts("conversations", "messages", "contained", "handed_off"),
        *_counts(*MESSAGE_KINDS, *(f"{kind}_conversations" for kind in MESSAGE_KINDS)),
    ),
)
daily_topics = sa.Table(
    "insights_daily_topics",
    metadata,
    *_day_channel(
        sa.Column("topic", sa.String(100), primary_key=True),
        *_counts("messages", "conversations"),
    ),
)
daily_searches = sa.Table(
    "insights_daily_searches",
    metadata,
    *_day_channel(
        sa.Column("job_family", sa.String(100), primary_key=True),
        sa.Column("location", sa.String(100), primary_key=True),
        *_counts("searches", "empty", "conversations", "empty_conversations"),
    ),
)
# One row per handoff, anonymous (no sender id, no text); kept after the day closes because
# medians over any range need the single times. `handoff_id` is dropped when the day closes.
handoffs = sa.Table(
    "insights_handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handoff_id", sa.Integer, unique=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(100), nullable=False),
    sa.Column("claim_s", sa.Float),
    sa.Column("reply_s", sa.Float),
    sa.Column("within_promise", sa.Integer),  # 1 yes, 0 no, NULL not yet known
)
state = sa.Table(
    "insights_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)
WATERMARK, LAST_RUN = "event_watermark", "last_run_at"


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine, checkfirst=True)


def read_state(db: Connection, name: str) -> float | None:
    return db.execute(sa.select(state.c.value).where(state.c.name == name)).scalar()


def write_state(db: Connection, name: str, value: float) -> None:
    db.execute(state.delete().where(state.c.name == name))
    db.execute(state.insert().values(name=name, value=value))


def ledger_entries(db: Connection, keys: Iterable[int]) -> Dict[int, tuple[str, int]]:
    """The day and newest event id the ledger holds for these conversations."""
    chosen = list(keys)
    if not chosen:
        return {}
    c = conversations.c
    query = sa.select(c.key, c.day, c.last_id).where(c.key.in_(chosen))
    return {int(key): (str(day), int(last)) for key, day, last in db.execute(query)}


def forget_conversations(db: Connection, keys: Iterable[int]) -> None:
    chosen = list(keys)
    if not chosen:
        return
    for table in (conversations, conversation_topics, conversation_searches):
        db.execute(table.delete().where(table.c.key.in_(chosen)))


def write_conversations(db: Connection, found: List[Conversation]) -> None:
    """Insert ledger rows (after forget_conversations of the same keys)."""
    rows: List[Dict[str, object]] = []
    topics: List[Dict[str, object]] = []
    searches: List[Dict[str, object]] = []
    for item in found:
        where = {"key": item.key, "day": item.day, "channel": item.channel}
        rows.append(
            {
                **where,
                "last_at": item.last_at,
                "last_id": item.last_id,
                "messages": item.messages,
                "handed_off": int(item.handed_off),
                **{kind: getattr(item, kind) for kind in MESSAGE_KINDS},
            }
        )
        topics.extend({**where, "topic": t, "messages": n} for t, n in item.topics.items())
        merged: Dict[tuple, Dict[str, int]] = {}
        for search in item.searches:
            counts = merged.setdefault((search.job_family, search.location), {"s": 0, "e": 0})
            counts["s"] += 1
            counts["e"] += int(search.empty)
        searches.extend(
            {**where, "job_family": f, "location": p, "searches": n["s"], "empty": n["e"]}
            for (f, p), n in merged.items()
        )
    for table, values in (
        (conversations, rows),
        (conversation_topics, topics),
        (conversation_searches, searches),
    ):
        if values:
            db.execute(table.insert(), values)


def rebuild_days(db: Connection, days: Iterable[str]) -> None:
    """Recompute the daily figures of these days from the ledger."""
    chosen = sorted(set(days))
    for start in range(0, len(chosen), 500):
        batch = chosen[start : start + 500]
        for table in (daily, daily_topics, daily_searches):
            db.execute(table.delete().where(table.c.day.in_(batch)))
        db.execute(daily.insert().from_select(_daily_columns(), _daily_select(batch)))
        db.execute(daily_topics.insert().from_select(_topic_columns(), _topic_select(batch)))
        db.execute(daily_searches.insert().from_select(_search_columns(), _search_select(batch)))


def _some(column: sa.Column) -> sa.ColumnElement:
    return sa.func.sum(sa.case((column > 0, 1), else_=0))


def _daily_columns() -> List[str]:
    kinds = [*MESSAGE_KINDS, *(f"{kind}_conversations" for kind in MESSAGE_KINDS)]
    return ["day", "channel", "conversations", "messages", "contained", "handed_off", *kinds]


def _daily_select(days: List[str]) -> sa.Select:
    c = conversations.c
    return (
        sa.select(
            c.day,
            c.channel,
            sa.func.count(),
            sa.func.sum(c.messages),
            sa.func.sum(1 - c.handed_off),
            sa.func.sum(c.handed_off),
            *(sa.func.sum(c[kind]) for kind in MESSAGE_KINDS),
            *(_some(c[kind]) for kind in MESSAGE_KINDS),
        )
        .where(c.day.in_(days))
        .group_by(c.day, c.channel)
    )


def _topic_columns() -> List[str]:
    return ["day", "channel", "topic", "messages", "conversations"]


def _topic_select(days: List[str]) -> sa.Select:
    c = conversation_topics.c
    return (
        sa.select(c.day, c.channel, c.topic, sa.func.sum(c.messages), sa.func.count())
        .where(c.day.in_(days))
        .group_by(c.day, c.channel, c.topic)
    )


def _search_columns() -> List[str]:
    return [
        "day",
        "channel",
        "job_family",
        "location",
        "searches",
        "empty",
        "conversations",
        "empty_conversations",
    ]


def _search_select(days: List[str]) -> sa.Select:
    c = conversation_searches.c
    return (
        sa.select(
            c.day,
            c.channel,
            c.job_family,
            c.location,
            sa.func.sum(c.searches),
            sa.func.sum(c.empty),
            sa.func.count(),
            _some(c.empty),
        )
        .where(c.day.in_(days))
        .group_by(c.day, c.channel, c.job_family, c.location)
    )


def close_days(db: Connection, before: str) -> None:
    """Days before `before` are final: drop their ledger rows and their handoffs' desk ids."""
    for table in (conversations, conversation_topics, conversation_searches):
        db.execute(table.delete().where(table.c.day < before))
    db.execute(
        handoffs.update()
        .where(handoffs.c.day < before, handoffs.c.handoff_id.isnot(None))
        .values(handoff_id=None)
    )
