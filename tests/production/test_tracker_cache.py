"""The tracker store keeps conversations between turns only while the database agrees.

Real stores on SQLite and PostgreSQL; a second store on the same database plays another
replica. What a kept tracker must always equal is what Rasa would rebuild from the rows.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy import tracker_events
from rasa_server.tracker_cache import TrackerCache
from rasa_server.tracker_store import ErasingSQLTrackerStore
from tests.privacy_support import BACKENDS, Database, database, save_conversation, session


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database(request.param, tmp_path) as found:
        yield found


def retrieve(store: ErasingSQLTrackerStore, sender: str) -> DialogueStateTracker:
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker is not None
    return tracker


def turn(store: ErasingSQLTrackerStore, sender: str, text: str) -> DialogueStateTracker:
    """One turn as Rasa's processor runs it: read, add the turn's events, save."""
    tracker = retrieve(store, sender)
    now = time.time()
    tracker.update(UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=now))
    tracker.update(ActionExecuted("utter_faq", timestamp=now))
    tracker.update(BotUttered(f"answer to {text}", timestamp=now))
    tracker.update(ActionExecuted("action_listen", timestamp=now))
    asyncio.run(store.save(tracker))
    return tracker


def rebuilt(db: Database, sender: str) -> List[Dict[str, Any]]:
    """The events Rasa's own SQL tracker store reads back for the latest session."""
    fresh = db.store()
    fresh.cache.size = 0
    return [event.as_dict() for event in retrieve(fresh, sender).events]


def started(db: Database, sender: str) -> ErasingSQLTrackerStore:
    store = db.store()
    save_conversation(store, sender, session(time.time() - 600, "hello"))
    return store


def test_the_saved_tracker_is_handed_out_again_and_equals_the_rows(db: Database):
    store = started(db, "applicant")
    first = turn(store, "applicant", "how do I apply")
    second = turn(store, "applicant", "what is vetting")

    assert second is first  # kept, not rebuilt
    assert [event.as_dict() for event in second.events] == rebuilt(db, "applicant")
    assert [e.text for e in second.events if isinstance(e, UserUttered)] == [
        "hello",
        "how do I apply",
        "what is vetting",
    ]


def test_another_replica_writing_to_the_conversation_is_seen(db: Database):
    store = started(db, "applicant")
    kept = turn(store, "applicant", "first on this replica")

    turn(db.store(), "applicant", "then on the other replica")

    now = retrieve(store, "applicant")
    assert now is not kept
    assert [e.text for e in now.events if isinstance(e, UserUttered)][-2:] == [
        "first on this replica",
        "then on the other replica",
    ]


def test_a_conversation_erased_elsewhere_is_gone(db: Database):
    store = started(db, "applicant")
    turn(store, "applicant", "my details")
    with db.engine().begin() as connection:
        tracker_events.erase_sender(connection, "applicant")

    assert asyncio.run(store.retrieve("applicant")) is None


def test_a_turn_that_fails_before_saving_leaves_nothing_behind(db: Database):
    store = started(db, "applicant")
    turn(store, "applicant", "saved")
    half_done = retrieve(store, "applicant")
    half_done.update(UserUttered("never saved", {"name": "faq", "confidence": 0.9}))

    again = retrieve(store, "applicant")
    assert again is not half_done
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-1] == "saved"


def test_nothing_touches_the_database_after_the_turn_is_committed(db: Database):
    # An error then would refuse a stored turn; the client would send it again and it would
    # be stored twice (seen in tests/production/test_faults.py when PostgreSQL restarted).
    store = started(db, "applicant")
    turn(store, "applicant", "kept")
    tracker = retrieve(store, "applicant")
    tracker.update(UserUttered("stored", {"name": "faq", "confidence": 0.9}, timestamp=time.time()))
    after_commit: List[str] = []

    def database_goes_away(_: Any, __: Any, statement: str, *___: Any) -> None:
        if committed:
            after_commit.append(statement)
            raise sa.exc.OperationalError(statement, {}, ConnectionError("connection lost"))

    committed: List[bool] = []
    sa.event.listen(store.engine, "commit", lambda _: committed.append(True))
    sa.event.listen(store.engine, "before_cursor_execute", database_goes_away)
    asyncio.run(store.save(tracker))  # does not raise
    sa.event.remove(store.engine, "before_cursor_execute", database_goes_away)

    assert committed and after_commit == []
    again = retrieve(store, "applicant")
    assert again is tracker  # kept, and what the rows hold
    assert [event.as_dict() for event in again.events] == rebuilt(db, "applicant")
    assert stored_rows(db, "applicant").count("user") == 3


def test_a_tracker_changed_after_its_save_is_not_handed_out(db: Database):
    store = started(db, "applicant")
    kept = turn(store, "applicant", "saved")
    kept.update(UserUttered("added after the save", {"name": "faq", "confidence": 0.9}))

    assert retrieve(store, "applicant") is not kept


def test_a_turn_that_starts_a_new_session_is_rebuilt_as_rasa_would(db: Database):
    store = started(db, "applicant")
    tracker = retrieve(store, "applicant")
    now = time.time()
    tracker.update(ActionExecuted("action_session_start", timestamp=now))
    tracker.update(SessionStarted(timestamp=now))
    tracker.update(ActionExecuted("action_listen", timestamp=now))
    tracker.update(UserUttered("back again", {"name": "faq", "confidence": 0.9}, timestamp=now))
    asyncio.run(store.save(tracker))

    again = retrieve(store, "applicant")
    assert again is not tracker
    assert [event.as_dict() for event in again.events] == rebuilt(db, "applicant")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["back again"]


def test_a_tracker_built_elsewhere_is_not_kept(db: Database):
    # Rasa's PUT .../tracker/events saves a tracker it built from the request, which the
    # SQL store appends after the stored events: not what a rebuild would give.
    store = started(db, "applicant")
    replaced = DialogueStateTracker.from_events(
        "applicant", session(time.time(), "replaced"), store.domain.slots
    )
    asyncio.run(store.save(replaced))

    assert retrieve(store, "applicant") is not replaced


def test_an_erasing_turn_keeps_no_copy(db: Database):
    store = started(db, "applicant")
    turn(store, "applicant", "my details")
    store.erase("applicant")

    assert asyncio.run(store.retrieve("applicant")) is None


def test_the_least_recently_used_conversations_go_first(db: Database):
    store = db.store()
    store.cache.size = 2
    kept = {}
    for sender in ("a", "b", "c"):
        save_conversation(store, sender, session(time.time() - 600, "hello"))
        kept[sender] = turn(store, sender, "question")

    assert retrieve(store, "a") is not kept["a"]
    assert retrieve(store, "b") is kept["b"]
    assert retrieve(store, "c") is kept["c"]


def test_none_are_kept_when_turned_off(db: Database):
    options = {k: v for k, v in db.tracker_store.items() if k != "type"}
    store = ErasingSQLTrackerStore(domain=db.store().domain, cached_conversations=0, **options)
    save_conversation(store, "applicant", session(time.time() - 600, "hello"))
    kept = turn(store, "applicant", "question")

    assert retrieve(store, "applicant") is not kept


def test_a_new_model_domain_drops_the_kept_trackers(db: Database):
    store = started(db, "applicant")
    kept = turn(store, "applicant", "question")
    store.domain = Domain.empty()

    assert retrieve(store, "applicant") is not kept


def stored_rows(db: Database, sender: str) -> List[str]:
    with db.engine().connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id"
            if db.url.startswith("sqlite")
            else "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id",
            (sender,),
        )
        return [row[0] for row in rows]


@pytest.mark.parametrize("cached", [128, 0])
def test_a_write_between_reading_and_saving_is_saved_as_rasa_saves_it(db: Database, cached: int):
    # Rasa appends only the events beyond the number it finds stored; the count the cache
    # knows is only used while nobody else has written, so the rows come out the same.
    options = {k: v for k, v in db.tracker_store.items() if k != "type"}
    store = ErasingSQLTrackerStore(domain=db.store().domain, cached_conversations=cached, **options)
    save_conversation(store, "applicant", session(time.time() - 600, "hello"))
    turn(store, "applicant", "kept")
    mine = retrieve(store, "applicant")
    turn(db.store(), "applicant", "from the other replica")
    mine.update(UserUttered("mine", {"name": "faq", "confidence": 0.9}, timestamp=time.time()))
    asyncio.run(store.save(mine))

    assert stored_rows(db, "applicant").count("user") == 3  # Rasa's own save drops "mine"


def test_a_conversation_left_idle_is_not_kept_in_memory(db: Database):
    store = started(db, "applicant")
    now = [1000.0]
    store.cache = TrackerCache(128, idle_seconds=600, clock=lambda: now[0])
    kept = turn(store, "applicant", "my question")
    now[0] += 599
    assert len(store.cache) == 1

    now[0] += 2
    assert len(store.cache) == 0
    assert retrieve(store, "applicant") is not kept


def test_the_sqlite_store_reuses_its_connection_in_write_ahead_log_mode(tmp_path: Path):
    with database("sqlite", tmp_path) as db:
        store = started(db, "applicant")
        turn(store, "applicant", "question")
        with store.engine.connect() as first:
            mode = first.exec_driver_sql("PRAGMA journal_mode").scalar()
            first_connection = first.connection.dbapi_connection
        with store.engine.connect() as second:
            assert second.connection.dbapi_connection is first_connection
    assert mode == "wal"
