"""Erasure in each store, without a model: the tracker store the Rasa server uses, and the
erasing actions with rasa-sdk's Tracker and CollectingDispatcher, on SQLite and PostgreSQL
(the actions erase the desk's records through a real desk process on the same database).

The live conversation through the real servers is in tests/test_privacy_erasure.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import SlotSet, UserUttered
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.desk_client import DeskClient
from actions.offers import ActionAnswerOffer
from actions.privacy import ActionAskEraseMyData
from actions.settings import HandoffSettings
from desk.storage import NewHandoff, Store, audit, handoffs, messages, migrate
from privacy.erasure import ERASED_SLOT
from scripts.stack import free_port
from tests.desk_support import Desk, StandInRasa, running_desk
from tests.privacy_support import (
    BACKENDS,
    Database,
    database,
    event_count,
    save_conversation,
    session,
    stored_texts,
)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database(request.param, tmp_path) as found:
        migrate(found.url)
        yield found


@pytest.fixture
def desk(db: Database, rasa: StandInRasa, tmp_path: Path) -> Iterator[Desk]:
    """A desk process on the test's database, as the action server reaches it."""
    with running_desk(tmp_path, rasa, database_url=db.url) as running:
        yield running


def client_of(desk: Desk) -> DeskClient:
    return DeskClient(HandoffSettings(desk_url=desk.url, service_token=desk.stack.desk_token))


def test_a_turn_with_the_marker_erases_the_whole_conversation_and_saves_nothing(db: Database):
    store = db.store()
    now = time.time()
    save_conversation(store, "erasing", session(now - 7200, "earlier session"))
    save_conversation(
        store, "erasing", session(now - 7200, "earlier session") + session(now - 60, "my secret")
    )
    save_conversation(store, "other", session(now - 60, "someone else"))
    # A turn as Rasa runs it: read the tracker, add the turn's events, save at the end.
    tracker = asyncio.run(store.retrieve("erasing"))
    assert tracker is not None
    tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}))
    tracker.update(SlotSet(ERASED_SLOT, True))
    asyncio.run(store.save(tracker))

    assert event_count(db.engine(), "erasing") == 0
    assert asyncio.run(store.retrieve("erasing")) is None
    assert asyncio.run(store.retrieve_full_tracker("erasing")) is None
    assert stored_texts(db.engine(), "other") == ["someone else"]


def test_without_the_marker_it_saves_like_rasas_sql_tracker_store(db: Database):
    store = db.store()
    save_conversation(store, "applicant", session(time.time() - 60, "first"))
    tracker = asyncio.run(store.retrieve("applicant"))
    assert tracker is not None
    tracker.update(UserUttered("second", {"name": "faq", "confidence": 1.0}))
    tracker.update(SlotSet(ERASED_SLOT, None))  # unset: not an erasure
    asyncio.run(store.save(tracker))
    assert stored_texts(db.engine(), "applicant") == ["first", "second"]
    store.ping()


# The erasing actions, as the action server runs them.


def user(intent: str, text: str) -> Dict[str, Any]:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "text": text}
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": time.time()}


def action(name: str) -> Dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": time.time()}


def sdk_tracker(sender: str, events: List[Dict[str, Any]], offer: str | None = None) -> Tracker:
    latest = [event for event in events if event["event"] == "user"][-1]
    return Tracker(
        sender_id=sender,
        slots={"offer": offer},
        latest_message=latest["parse_data"],
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


ASKED = [
    action("action_listen"),
    user("delete_my_data", "delete my data"),
    action("action_ask_erase_my_data"),
    {"event": "slot", "name": "offer", "value": "erase"},
    action("action_listen"),
]


def add_handoff(store: Store, sender: str, text: str) -> int:
    handoff_id = store.create_handoff(
        NewHandoff(sender, "instagram", "general", "asked for a person", text,
                   [{"who": "applicant", "text": text, "at": 1.0}], time.time())
    )  # fmt: skip
    store.add_message(handoff_id, "alice", "note", f"note about {text}", time.time())
    return handoff_id


def run(action_: Any, tracker: Tracker) -> tuple[List[Dict[str, Any]], List[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action_.run(dispatcher, tracker, {}))
    return events, [message.get("response") for message in dispatcher.messages]


def test_the_question_says_how_long_conversations_are_kept(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RETENTION_DAYS", "14")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionAskEraseMyData().run(dispatcher, sdk_tracker("a", [user("delete_my_data", "x")]), {})
    )
    assert dispatcher.messages[0]["response"] == "utter_ask_erase_my_data"
    assert dispatcher.messages[0]["days"] == "14"
    assert events == [{"event": "slot", "name": "offer", "value": "erase", "timestamp": None}]


def test_yes_to_the_question_erases_that_applicants_desk_records_only(db: Database, desk: Desk):
    store = Store(db.url)
    mine = [add_handoff(store, "erasing", "my question"), add_handoff(store, "erasing", "again")]
    theirs = add_handoff(store, "other", "their question")

    events, said = run(
        ActionAnswerOffer(client_of(desk)),
        sdk_tracker("erasing", [*ASKED, user("affirm", "yes")], "erase"),
    )
    assert said == ["utter_data_erased"]
    assert {"event": "slot", "name": ERASED_SLOT, "value": True, "timestamp": None} in events
    with db.engine().connect() as connection:
        left = connection.execute(sa.select(handoffs.c.id, handoffs.c.sender_id)).all()
        notes = connection.execute(sa.select(messages.c.handoff_id)).scalars().all()
        erased = connection.execute(
            sa.select(audit.c.handoff_id, audit.c.detail).where(audit.c.action == "erased")
        ).all()
    assert left == [(theirs, "other")]
    assert notes == [theirs]
    assert sorted(handoff_id for handoff_id, _ in erased) == sorted(mine)
    assert all("erasing" not in detail for _, detail in erased)


def test_no_to_the_question_deletes_nothing(db: Database, desk: Desk):
    store = Store(db.url)
    add_handoff(store, "keeping", "my question")
    events, said = run(
        ActionAnswerOffer(client_of(desk)),
        sdk_tracker("keeping", [*ASKED, user("deny", "no")], "erase"),
    )
    assert said == ["utter_erasure_cancelled"]
    assert all(event.get("name") != ERASED_SLOT for event in events)
    assert len(store.list_handoffs("waiting")) == 1


def test_a_yes_after_something_else_never_erases(db: Database, desk: Desk):
    store = Store(db.url)
    add_handoff(store, "keeping", "my question")
    later = [*ASKED, user("distress", "i feel awful"), action("utter_distress"),
             action("action_listen"), user("affirm", "yes")]  # fmt: skip
    events, said = run(ActionAnswerOffer(client_of(desk)), sdk_tracker("keeping", later, "erase"))
    assert said == ["utter_unclear_yes_no"]
    assert all(event.get("name") != ERASED_SLOT for event in events)
    assert len(store.list_handoffs("waiting")) == 1


def test_when_the_desk_is_down_nothing_is_erased_and_the_applicant_is_told(
    caplog: pytest.LogCaptureFixture,
):
    nobody = DeskClient(HandoffSettings(desk_url=f"http://127.0.0.1:{free_port()}"))
    tracker = sdk_tracker("erasing", [*ASKED, user("affirm", "yes")], "erase")
    events, said = run(ActionAnswerOffer(nobody), tracker)
    assert said == ["utter_erasure_failed"]
    assert all(event.get("name") != ERASED_SLOT for event in events)
    assert "privacy.erasure.desk_failed error=erasure failed 2 times" in caplog.text
    assert "erasing" not in caplog.text


class FlakyDesk(BaseHTTPRequestHandler):
    """Answers the first erasure with 503, as a desk restarting behind its Service does."""

    calls: List[str] = []

    def do_DELETE(self) -> None:
        FlakyDesk.calls.append(self.path)
        if len(FlakyDesk.calls) == 1:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"handoffs_erased": 1, "rows_erased": 2}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_erasure_the_desk_fails_once_is_tried_again():
    FlakyDesk.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyDesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        flaky = DeskClient(HandoffSettings(desk_url=f"http://127.0.0.1:{server.server_port}"))
        tracker = sdk_tracker("instagram:17/89", [*ASKED, user("affirm", "yes")], "erase")
        events, said = run(ActionAnswerOffer(flaky), tracker)
    finally:
        server.shutdown()
    assert said == ["utter_data_erased"]
    assert {"event": "slot", "name": ERASED_SLOT, "value": True, "timestamp": None} in events
    # The "/" stays escaped, so the id is one path segment (aiohttp leaves ":" as it is).
    assert FlakyDesk.calls == ["/api/applicants/instagram:17%2F89"] * 2
