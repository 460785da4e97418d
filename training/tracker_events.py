"""Reading Rasa's SQL tracker store page by page, so a store of any size fits in memory.

Rasa's `SQLTrackerStore` keeps one row per event in the `events` table. Pages are fetched by
keyset pagination on the primary key (`id > last ORDER BY id LIMIT n`), each in its own short
connection, so at most one page is held at once, a SQLite store stays writable for the Rasa
server between pages, and no page gets slower the further the reader is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, NamedTuple, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# The columns of Rasa 3.6's SQLTrackerStore.SQLEvent that the inbox needs.
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
USER, ACTION = "user", "action"
DEFAULT_PAGE_SIZE = 1000


class Event(NamedTuple):
    """One row of the events table (a tuple: a store has millions of them)."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float | None
    intent_name: str | None
    action_name: str | None
    # Only user events carry their JSON; other events' data is not read.
    data: str | None

    def parsed(self) -> Dict[str, Any]:
        try:
            found = json.loads(self.data or "{}")
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


@dataclass
class EventPages:
    """The events of the given types (oldest first), read one page at a time.

    `pages` and `rows` count what was read, so callers (and tests) can see it streamed.
    """

    engine: Engine
    page_size: int = DEFAULT_PAGE_SIZE
    since: float | None = None
    types: Sequence[str] = (USER, ACTION)
    pages: int = field(default=0, init=False)
    rows: int = field(default=0, init=False)
    largest_page: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("the page size must be at least 1")

    def exists(self) -> bool:
        """False for a database the Rasa server has not written a conversation to yet."""
        return bool(sa.inspect(self.engine).has_table(events.name))

    def __iter__(self) -> Iterator[Event]:
        if not self.exists():
            return
        columns = [
            events.c.id,
            events.c.sender_id,
            events.c.type_name,
            events.c.timestamp,
            events.c.intent_name,
            events.c.action_name,
            sa.case((events.c.type_name == USER, events.c.data), else_=sa.null()).label("data"),
        ]
        conditions = [events.c.type_name.in_(list(self.types))]
        if self.since is not None:
            conditions.append(events.c.timestamp >= self.since)
        last = None
        while True:
            query = sa.select(*columns).where(*conditions)
            if last is not None:
                query = query.where(events.c.id > last)
            query = query.order_by(events.c.id).limit(self.page_size)
            with self.engine.connect() as db:
                page = db.execute(query).all()
            if not page:
                return
            self.pages += 1
            self.rows += len(page)
            self.largest_page = max(self.largest_page, len(page))
            make = Event._make
            for row in page:
                yield make(row)
            last = page[-1].id
            del page
