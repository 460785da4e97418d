"""The hand-over actions with rasa-sdk's Tracker and CollectingDispatcher, against a real desk.

The action queues the handoff through the desk's service API (a desk process on its own
database, tests/desk_support.py) and tells the applicant the reply time the desk answers with.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffToRecruiter
from actions.offers import ActionAnswerOffer
from actions.settings import HandoffSettings
from desk.storage import WAITING
from scripts.stack import free_port
from tests.desk_support import Desk, StandInRasa, running_desk

WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/London"))
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def user(intent: str, text: str, topic: str | None = None, at: float = 1.0) -> Dict[str, Any]:
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "text": text}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": at,
            "input_channel": "socketio"}  # fmt: skip


def bot(text: str) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": 2.0}


def tracker(events: List[Dict[str, Any]], slots: Dict[str, Any] | None = None) -> Tracker:
    latest = [e for e in events if e["event"] == "user"][-1]
    return Tracker(
        sender_id="applicant-1",
        slots=slots or {},
        latest_message={**latest["parse_data"], "text": latest["text"]},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [message.get("response") for message in dispatcher.messages]


def settings_for(desk: Desk) -> HandoffSettings:
    """How the action server reaches this desk: its URL and service token."""
    return HandoffSettings(desk_url=desk.url, service_token=desk.stack.desk_token)


@pytest.fixture
def settings(desk: Desk) -> HandoffSettings:
    return settings_for(desk)


def handoffs(desk: Desk) -> List[Dict[str, Any]]:
    return desk.store.list_handoffs(WAITING)


async def test_asking_for_a_person_queues_the_conversation_and_pauses(settings, desk, domain):
    events = [
        user("greet", "hi"),
        bot("Hi, I'm MI5's careers assistant."),
        user("faq", "my partner is Italian, can I apply?", "eligibility_partner_family"),
        bot("It depends..."),
        user("request_human", "can I talk to a recruiter"),
    ]
    dispatcher = CollectingDispatcher()
    action = ActionHandoffToRecruiter(settings, clock=lambda: WEDNESDAY_10AM)
    result = await action.run(dispatcher, tracker(events), domain)

    assert {"event": "pause", "timestamp": None} in result
    assert responses(dispatcher) == ["utter_handoff_confirm"]
    assert dispatcher.messages[0]["when"] == "within about 30 minutes"
    [handoff] = handoffs(desk)
    assert handoff["sender_id"] == "applicant-1"
    assert handoff["topic"] == "eligibility_partner_family"
    assert handoff["channel"] == "socketio"
    assert handoff["reason"] == "asked for a person"
    assert handoff["created_at"] == WEDNESDAY_10AM.timestamp()
    assert handoff["preview"] == "can I talk to a recruiter"
    assert [line["text"] for line in handoff["transcript"]][2] == (
        "my partner is Italian, can I apply?"
    )


async def test_the_reply_time_it_gives_is_the_desks_setting_and_only_an_aim(
    tmp_path, rasa: StandInRasa, domain
):
    """The desk answers with the reply time from its own variables (DESK_REPLY_MINUTES, office
    hours), so the applicant is told what the desk is set to, as an aim, not a promise."""
    env = {"DESK_REPLY_MINUTES": "45", "DESK_OFFICE_CLOSES": "09:30"}
    with running_desk(tmp_path, rasa, env=env) as desk:
        after_closing = ActionHandoffToRecruiter(settings_for(desk), clock=lambda: WEDNESDAY_10AM)
        dispatcher = CollectingDispatcher()
        await after_closing.run(dispatcher, tracker([user("request_human", "a person")]), domain)
        assert dispatcher.messages[0]["when"].startswith("on the next working day, Thursday")
        open_now = ActionHandoffToRecruiter(
            settings_for(desk), clock=lambda: WEDNESDAY_10AM.replace(hour=9, minute=15)
        )
        dispatcher = CollectingDispatcher()
        await open_now.run(dispatcher, tracker([user("request_human", "a person")]), domain)
        assert dispatcher.messages[0]["when"] == "within about 45 minutes"
    [confirm] = domain["responses"]["utter_handoff_confirm"]
    assert "we aim to reply {when}" in " ".join(confirm["text"].split())


async def test_without_a_question_it_asks_for_one_and_promises_the_next_working_day(
    settings, desk, domain
):
    dispatcher = CollectingDispatcher()
    action = ActionHandoffToRecruiter(settings, clock=lambda: SATURDAY)
    await action.run(dispatcher, tracker([user("request_human", "/request_human")]), domain)
    assert responses(dispatcher) == ["utter_handoff_confirm", "utter_handoff_ask_question"]
    assert dispatcher.messages[0]["when"].startswith("on the next working day, Monday")
    assert handoffs(desk)[0]["topic"] == "general"


async def test_when_the_desk_is_down_the_applicant_gets_another_route(domain):
    nobody = HandoffSettings(desk_url=f"http://127.0.0.1:{free_port()}", service_token="t")
    dispatcher = CollectingDispatcher()
    result = await ActionHandoffToRecruiter(nobody).run(
        dispatcher, tracker([user("request_human", "a person please")]), domain
    )
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    assert all(event["event"] != "pause" for event in result)


async def test_a_desk_that_refuses_the_token_queues_nothing_and_the_route_is_given(
    desk: Desk, domain
):
    wrong = HandoffSettings(desk_url=desk.url, service_token="not-the-desks-token")
    dispatcher = CollectingDispatcher()
    result = await ActionHandoffToRecruiter(wrong).run(
        dispatcher, tracker([user("request_human", "a person please")]), domain
    )
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    assert all(event["event"] != "pause" for event in result)
    assert handoffs(desk) == []


def followup(result: List[Dict[str, Any]]) -> str | None:
    return next((e["name"] for e in result if e["event"] == "followup"), None)


async def test_yes_to_the_recruiter_offer_hands_over(domain):
    events = [user("out_of_scope", "pizza"), user("nlu_fallback", "blah"), user("affirm", "yes")]
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerOffer().run(
        dispatcher, tracker(events, {"offer": "recruiter"}), domain
    )
    assert followup(result) == "action_handoff_to_recruiter"
    assert dispatcher.messages == []


async def test_yes_after_an_answer_that_depends_on_circumstances_hands_over(domain):
    events = [
        user("faq", "I lived in Dubai for four years", "eligibility_residency"),
        bot("Residency answer"),
        user("affirm", "yes please"),
    ]
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerOffer().run(dispatcher, tracker(events), domain)
    assert followup(result) == "action_handoff_to_recruiter"


async def test_no_after_such_an_answer_is_a_polite_decline(domain):
    events = [user("faq", "criminal record?", "eligibility_criminal_record"), user("deny", "no")]
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerOffer().run(dispatcher, tracker(events), domain)
    assert followup(result) is None
    assert responses(dispatcher) == ["utter_offer_declined"]


async def test_yes_after_an_ordinary_answer_is_not_a_hand_over(domain):
    events = [user("faq", "what is vetting", "process_vetting"), user("affirm", "yes")]
    dispatcher = CollectingDispatcher()
    result = await ActionAnswerOffer().run(dispatcher, tracker(events), domain)
    assert followup(result) is None
    assert responses(dispatcher) == ["utter_unclear_yes_no"]


class Webhook(BaseHTTPRequestHandler):
    received: List[Dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def wait_for_webhook(deadline_s: float = 30) -> List[Dict[str, Any]]:
    """The desk notifies in the background: wait until the webhook has heard."""
    deadline = time.monotonic() + deadline_s
    while not Webhook.received and time.monotonic() < deadline:
        time.sleep(0.1)
    return Webhook.received


async def test_the_webhook_hears_of_each_new_handoff_without_the_message(
    tmp_path, rasa: StandInRasa, webhook, domain
):
    env = {"DESK_NOTIFY_WEBHOOK_URL": webhook, "DESK_PUBLIC_URL": "http://desk.example"}
    with running_desk(tmp_path, rasa, env=env) as desk:
        secret = "my address is 1 Secret Street"
        await ActionHandoffToRecruiter(settings_for(desk)).run(
            CollectingDispatcher(), tracker([user("request_human", secret)]), domain
        )
        [payload] = wait_for_webhook()
    assert set(payload) == {"text"}
    assert "http://desk.example/handoffs/1" in payload["text"]
    assert "Secret Street" not in payload["text"]


async def test_a_dead_webhook_does_not_stop_the_hand_over(tmp_path, rasa: StandInRasa, domain):
    env = {"DESK_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/nothing-listens-here"}
    with running_desk(tmp_path, rasa, env=env) as desk:
        dispatcher = CollectingDispatcher()
        await ActionHandoffToRecruiter(settings_for(desk)).run(
            dispatcher, tracker([user("request_human", "a person")]), domain
        )
        assert responses(dispatcher)[0] == "utter_handoff_confirm"
        assert len(handoffs(desk)) == 1
