"""Conversations stored before channel namespaces keep working: `python -m scripts.namespace_ids`
renames them in the tracker store and the desk, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import UserUttered

from desk.storage import NewHandoff, Store, handoffs, migrate
from scripts.namespace_ids import migrate as namespace_ids
from tests.privacy_support import BACKENDS, Database, database, save_conversation, session


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database(request.param, tmp_path) as found:
        migrate(found.url)
        yield found


def conversation(channel: str | None, text: str) -> List:
    events = session(time.time() - 60)
    events.append(UserUttered(text, {"name": "faq", "confidence": 0.9}, input_channel=channel))
    return events


def sender_ids(db: Database) -> List[str]:
    with db.engine().connect() as connection:
        query = sa.text("SELECT DISTINCT sender_id FROM events ORDER BY sender_id")
        return list(connection.execute(query).scalars())


def test_old_ids_move_to_their_channels_namespace_once(db: Database):
    store = db.store()
    save_conversation(store, "17841400000000002", conversation("instagram", "hello"))
    save_conversation(store, "sam", conversation("rest", "hi"))
    save_conversation(store, "4f2a", conversation("socketio", "hey"))
    save_conversation(store, "rest:already", conversation("rest", "hi"))
    save_conversation(store, "mystery", conversation(None, "who"))
    desk = Store(db.url)
    for sender, channel in (("17841400000000002", "instagram"), ("gone", "rest")):
        desk.create_handoff(NewHandoff(sender, channel, "general", "asked", "", [], 1.0))

    done = namespace_ids(db.url, db.url)

    assert (done.conversations, done.handoffs, done.unknown_channel) == (3, 2, 1)
    assert sender_ids(db) == [
        "instagram:17841400000000002", "mystery", "rest:already", "rest:sam", "webchat:4f2a"
    ]  # fmt: skip
    with db.engine().connect() as connection:
        moved = set(connection.execute(sa.select(handoffs.c.sender_id)).scalars())
    assert moved == {"instagram:17841400000000002", "rest:gone"}
    again = namespace_ids(db.url, db.url)
    assert (again.conversations, again.handoffs) == (0, 0)
