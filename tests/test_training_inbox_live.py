"""The trainers' inbox on a tracker store filled by real conversations with the assistant.

The session's real Rasa server and action server (the `stack` fixture, with the trained model)
write their SQLite tracker store; applicants here fall back, ask ordinary questions, and ask
for a person; a recruiter flags a message on a real desk. The inbox must find exactly the
right messages, grouped and redacted, with the topic and confidence the NLU gave them. Other
tests share the stack, so every text here is one no other test sends.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from desk.storage import Store
from desk.training_inbox import collect
from scripts.stack import Stack, free_port
from tests.conftest import rest_id, say
from tests.desk_support import PASSWORD, Browser, desk_cli
from tests.training_store_support import content_copy
from training.inbox_groups import Inbox, InboxItem, InboxQuery
from training.inbox_settings import InboxSettings
from training.missed_messages import FELL_BACK, FLAGGED, HANDOFF, LOW_CONFIDENCE

OFF_TOPIC = "My cat is sick, what should I do??"
OFF_TOPIC_AGAIN = "my cat is sick  what should i do"
WITH_DATA = "my cat is sick, ring 07700 900123 or mail jo.bloggs@example.com"
GIBBERISH = "Zorblax quintessa flibbertigibbet wumpus?"
ORDINARY = "what is vetting"
QUESTION = "I have lived in Ruritania for nine years, does my time abroad count for vetting?"
ASK_PERSON = "i want to talk to a human"


def tracker_events(stack: Stack, sender: str) -> List[Dict[str, Any]]:
    reply = requests.get(
        f"{stack.url}/conversations/{rest_id(sender)}/tracker",
        params={"token": stack.token},
        timeout=30,
    )
    assert reply.ok, reply.text
    return reply.json()["events"]


def actions_after(events: List[Dict[str, Any]], text: str) -> List[str]:
    """The actions the assistant ran on the message `text`, up to its next action_listen."""
    start = next(n for n, e in enumerate(events) if e["event"] == "user" and e["text"] == text)
    found = []
    for event in events[start + 1 :]:
        if event["event"] == "action":
            if event["name"] == "action_listen":
                break
            found.append(event["name"])
    return found


def parse_of(events: List[Dict[str, Any]], text: str) -> Dict[str, Any]:
    return next(e for e in events if e["event"] == "user" and e["text"] == text)["parse_data"]


@pytest.fixture(scope="module")
def conversations(stack: Stack) -> Dict[str, str]:
    """One applicant per scenario; the sender ids by scenario."""
    tag = uuid.uuid4().hex[:8]
    names = ("a", "b", "c", "gibberish", "ordinary", "handoff")
    senders = {name: f"inbox-{name}-{tag}" for name in names}
    say(stack, senders["a"], OFF_TOPIC)
    say(stack, senders["b"], OFF_TOPIC_AGAIN)
    say(stack, senders["c"], WITH_DATA)
    say(stack, senders["gibberish"], GIBBERISH)
    say(stack, senders["ordinary"], "hello")
    say(stack, senders["ordinary"], ORDINARY)
    say(stack, senders["handoff"], QUESTION)
    say(stack, senders["handoff"], ASK_PERSON)
    return senders


def tracker_url(stack: Stack) -> str:
    return f"sqlite:///{Path(stack.endpoints).parent / 'tracker.db'}"


def inbox(stack: Stack, confidence: float = 0.6) -> Inbox:
    url = tracker_url(stack)
    query = InboxQuery(confidence=confidence, page_size=10)
    return collect(InboxSettings(tracker_url=url, desk_url=url), query)


def item_with(found: Inbox, text: str) -> InboxItem | None:
    return next((item for item in found.items if item.text == text), None)


def confidence_of(parse: Dict[str, Any]) -> float:
    """The topic's confidence: for an FAQ, the lower of the intent's and the selector's."""
    confidence = float(parse["intent"]["confidence"])
    if parse["intent"]["name"] == "faq":
        confidence = min(confidence, parse["response_selector"]["faq"]["response"]["confidence"])
    return confidence


def test_fallbacks_are_grouped_redacted_and_carry_the_nlu_guess(stack: Stack, conversations):
    for sender, text in (("a", OFF_TOPIC), ("b", OFF_TOPIC_AGAIN), ("c", WITH_DATA)):
        done = actions_after(tracker_events(stack, conversations[sender]), text)
        missed = {"action_not_understood", "action_off_topic"} & set(done)
        assert missed, f"precondition: {text!r} is not answered on a topic"
    found = inbox(stack)
    assert found.pages > 1 and found.largest_page <= 10  # read in pages here too
    grouped = item_with(found, OFF_TOPIC)
    assert grouped is not None, [item.text for item in found.items]
    assert grouped.count == 2 and grouped.reasons[FELL_BACK] == 2
    # The guess is the NLU's own intent (or faq/<topic> from the response selector).
    parses = [
        parse_of(tracker_events(stack, conversations[sender]), text)
        for sender, text in (("a", OFF_TOPIC), ("b", OFF_TOPIC_AGAIN))
    ]
    assert grouped.topic == parses[0]["intent"]["name"] == "out_of_scope"
    assert grouped.confidence == pytest.approx(sum(confidence_of(p) for p in parses) / 2)
    redacted = "my cat is sick, ring [PHONE] or mail [EMAIL]"
    with_data = item_with(found, redacted)
    assert with_data is not None and with_data.reasons[FELL_BACK] == 1
    shown = " ".join(item.text for item in found.items)
    assert "07700" not in shown and "jo.bloggs" not in shown


def test_made_up_words_fall_back_and_reach_the_inbox(stack: Stack, conversations):
    events = tracker_events(stack, conversations["gibberish"])
    assert parse_of(events, GIBBERISH)["intent"]["name"] == "nlu_fallback"
    assert "action_not_understood" in actions_after(events, GIBBERISH)
    missed = item_with(inbox(stack), GIBBERISH)
    assert missed is not None and missed.reasons == {FELL_BACK: 1}


def test_understood_questions_stay_out_unless_below_the_threshold(stack: Stack, conversations):
    parse = parse_of(tracker_events(stack, conversations["ordinary"]), ORDINARY)
    selected = parse["response_selector"]["faq"]["response"]
    assert parse["intent"]["name"] == "faq"
    assert selected["intent_response_key"] == "faq/process_vetting"
    confidence = confidence_of(parse)
    assert confidence >= 0.6, "precondition: a training example is understood with confidence"
    assert item_with(inbox(stack), ORDINARY) is None
    assert item_with(inbox(stack), "hello") is None
    strict = item_with(inbox(stack, confidence=min(1.0, confidence + 0.001)), ORDINARY)
    assert strict is not None and strict.reason == LOW_CONFIDENCE
    assert strict.topic == "faq/process_vetting"
    assert strict.confidence == pytest.approx(confidence)


def test_the_question_behind_a_handoff_is_in_the_inbox(stack: Stack, conversations):
    events = tracker_events(stack, conversations["handoff"])
    assert "action_handoff_to_recruiter" in actions_after(events, ASK_PERSON)
    found = inbox(stack)
    question = item_with(found, QUESTION)
    assert question is not None and question.reasons[HANDOFF] == 1
    asked = item_with(found, ASK_PERSON)
    assert asked is None or HANDOFF not in asked.reasons  # "a person" is not the question


@pytest.fixture(scope="module")
def desk_on_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A desk of this module's own on the stack's database; labelling goes to a copy."""
    tmp = tmp_path_factory.mktemp("inbox-desk")
    data_dir = content_copy(tmp / "project")
    with open(tmp / "desk.log", "wb") as log:
        desk = Stack(
            rasa_port=stack.rasa_port,
            token=stack.token,
            desk_port=free_port(),
            log=log,
            env={"DESK_DATABASE_URL": tracker_url(stack), "TRAINING_DATA_DIR": str(data_dir)},
        )
        try:
            desk.start_desk()
            yield desk
        finally:
            desk.stop()


def test_a_message_flagged_on_a_real_transcript_is_found_in_the_store(
    stack: Stack, conversations, desk_on_stack: Stack
):
    url = tracker_url(stack)
    tag = uuid.uuid4().hex[:6]
    recruiter, trainer = f"rec-{tag}", f"trainer-{tag}"
    assert desk_cli(url, "create-user", recruiter, stdin=PASSWORD + "\n").returncode == 0
    made = desk_cli(url, "create-user", trainer, "--role", "trainer", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr

    client = Browser(desk_on_stack.desk_url)
    assert client.sign_in(recruiter).status_code == 302
    (handoff,) = [
        h["id"]
        for h in Store(url).list_handoffs("waiting")
        if h["sender_id"] == rest_id(conversations["handoff"])
    ]
    page = client.request("GET", f"/handoffs/{handoff}").text
    stamps = re.findall(
        r'<span class="text">([^<]*)</span>\s*<form method="post" action="/handoffs/\d+/flag" '
        r'class="flag-form"><input type="hidden" name="csrf" value="[^"]+">'
        r'<input type="hidden" name="at" value="([^"]+)">',
        page,
    )
    at = next(stamp for text, stamp in stamps if "Ruritania" in text)
    csrf = client.csrf(f"/handoffs/{handoff}")
    done = client.request("POST", f"/handoffs/{handoff}/flag", data={"csrf": csrf, "at": at})
    assert done.status_code == 302 and done.headers["Location"].endswith("notice=flagged")

    question = item_with(inbox(stack), QUESTION)
    assert question is not None
    # Matched to the stored event: flagged and handed over, with the NLU's topic.
    assert question.reasons[FLAGGED] == 1 and question.reasons[HANDOFF] == 1
    assert question.topic and question.confidence is not None

    trainer_client = Browser(desk_on_stack.desk_url)
    assert trainer_client.sign_in(trainer).status_code == 302
    training = trainer_client.request("GET", "/training")
    assert training.status_code == 200
    assert "Ruritania" in training.text
    assert "my cat is sick, ring [PHONE] or mail [EMAIL]" in training.text
