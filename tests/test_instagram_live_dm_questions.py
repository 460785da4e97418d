"""DMs asked "for the live" during a scheduled Q&A, end to end: signed webhook bodies against
the real Rasa server and action server with the Instagram channel, the Graph API stand-in
and the desk stand-in, with a Q&A schedule of the test's own (QA_EVENTS_FILE).

The schedule holds a Q&A starting now and one that ran 25 hours ago; which one a DM counts
for follows from the time Meta stamps on it. One sender's DMs are handled strictly in order,
so once a later DM's question has reached the desk, an earlier DM's would have too.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, List

import pytest
import requests

from channels.instagram.live_dm_questions import ANSWER_LEAD, PASSED_ON, dm_question_id
from scripts.stack import Stack
from tests.support.desk_stand_in import DeskStandIn
from tests.support.graph_api_stand_in import GraphApiStandIn
from tests.support.instagram_deliveries import (
    Deliveries,
    encode,
    new_mid,
    new_sender,
    now_ms,
    signed_headers,
)
from tests.support.instagram_stack import Secrets, rasa_with_instagram

KEYS = Secrets()
DESK_TOKEN = "desk-service-" + "y" * 24
WAIT = 90.0
NOW = datetime.now(timezone.utc).replace(microsecond=0)
EARLIER = NOW - timedelta(hours=25, minutes=10)
FOR_THE_LIVE = "Question for the live: how do I apply for a job at MI5?"
PLAIN = "how do I apply for a job at MI5?"
d = Deliveries()


def media_id(starts: datetime) -> str:
    return "qa-" + starts.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def desk() -> Iterator[DeskStandIn]:
    with DeskStandIn(service_token=DESK_TOKEN) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def server(trained_model: Path, graph: GraphApiStandIn, desk: DeskStandIn) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="careers-live-dm-") as tmp:
        schedule = Path(tmp) / "qa_events.yml"
        schedule.write_text(
            "events:\n"
            f"  - title: Live Q&A now\n    starts: {NOW.isoformat()}\n"
            f"  - title: Yesterday's Q&A\n    starts: {EARLIER.isoformat()}\n"
            f"    ends: {(EARLIER + timedelta(hours=1)).isoformat()}\n",
            encoding="utf-8",
        )
        env = {"QA_EVENTS_FILE": str(schedule)}
        with rasa_with_instagram(
            trained_model, graph.url, KEYS, Path(tmp), extra_env=env, desk=(desk.port, DESK_TOKEN)
        ) as stack:
            yield stack


class Dms:
    def __init__(self, server: Stack, graph: GraphApiStandIn, desk: DeskStandIn) -> None:
        self.url = f"{server.url}/webhooks/instagram/webhook"
        self.replies_url = f"{server.url}/webhooks/instagram/private_replies"
        self.graph = graph
        self.desk = desk

    def send(self, sender: str, text: str, mid: str, at_ms: int | None = None) -> None:
        body = encode(d.delivery(d.text(sender, text, mid=mid, timestamp=at_ms)))
        reply = requests.post(
            self.url, data=body, headers=signed_headers(KEYS.app_secret, body), timeout=30
        )
        assert reply.status_code == 200 and reply.text == "EVENT_RECEIVED", reply.text

    def passed_on(self, sender: str) -> int:
        return self.graph.texts_to(sender).count(PASSED_ON)

    def wait_forwarded(self, mid: str) -> dict:
        question_id = dm_question_id(mid)
        assert self.desk.wait_for(lambda: self.desk.stored(question_id) is not None, WAIT)
        return self.desk.stored(question_id)

    def sentinel(self, sender: str) -> None:
        """A question for the live now, waited for until the desk has it."""
        mid = new_mid()
        self.send(sender, FOR_THE_LIVE, mid)
        self.wait_forwarded(mid)

    def ask_desk(self, question_ids: List[str], topic: str) -> List[dict]:
        body = {"replies": [{"comment_id": q, "topic": topic} for q in question_ids]}
        headers = {"Authorization": f"Bearer {DESK_TOKEN}"}
        reply = requests.post(self.replies_url, json=body, headers=headers, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()["results"]


@pytest.fixture
def dms(server, graph, desk) -> Dms:
    return Dms(server, graph, desk)


def test_a_question_for_the_live_is_answered_and_forwarded_once(dms, desk, graph):
    sender, mid = new_sender(), new_mid()
    for _ in range(3):  # Meta redelivers
        dms.send(sender, FOR_THE_LIVE, mid)
    question = dms.wait_forwarded(mid)
    assert question["media_id"] == media_id(NOW)
    assert question["text"] == FOR_THE_LIVE
    assert question["topic"] and question["topic"].startswith("faq/")
    assert question["abuse"] is False
    assert len(question["commenter"]) == 16 and sender not in str(question)
    assert graph.wait_for(lambda: dms.passed_on(sender) == 1, WAIT)
    texts = graph.texts_to(sender)
    assert texts.index(PASSED_ON) >= 1  # the usual answer first, then the line
    dms.sentinel(sender)
    time.sleep(1)
    assert len(desk.calls_for(dm_question_id(mid))) == 1
    assert dms.passed_on(sender) == 2  # once for the question, once for the sentinel


def test_a_plain_dm_during_the_qa_is_not_forwarded(dms, desk, graph):
    sender, mid = new_sender(), new_mid()
    dms.send(sender, PLAIN, mid)
    dms.sentinel(sender)
    time.sleep(1)
    assert desk.calls_for(dm_question_id(mid)) == []
    assert dms.passed_on(sender) == 1  # the sentinel's


def test_a_question_for_the_live_outside_any_qa_is_only_answered(dms, desk, graph):
    sender, mid = new_sender(), new_mid()
    four_hours_ago = now_ms() - 4 * 3600 * 1000
    dms.send(sender, FOR_THE_LIVE, mid, at_ms=four_hours_ago)
    dms.sentinel(sender)
    time.sleep(1)
    assert desk.calls_for(dm_question_id(mid)) == []
    assert dms.passed_on(sender) == 1
    assert len([t for t in graph.texts_to(sender) if t != PASSED_ON]) >= 2  # both answered


def test_the_board_sends_a_dm_question_its_answer_once(dms, desk, graph):
    sender, mid = new_sender(), new_mid()
    dms.send(sender, FOR_THE_LIVE, mid)
    question = dms.wait_forwarded(mid)
    question_id, topic = dm_question_id(mid), question["topic"]
    assert graph.wait_for(lambda: dms.passed_on(sender) == 1, WAIT)
    before = len(graph.sent_to(sender))
    assert dms.ask_desk([question_id], topic) == [{"comment_id": question_id, "status": "sent"}]
    sent = graph.sent_to(sender)[before:]
    assert sent and sent[0].text.startswith(ANSWER_LEAD)
    assert sent[0].body["recipient"] == {"id": sender}  # a DM, not a private reply
    assert dms.ask_desk([question_id], topic) == [
        {"comment_id": question_id, "status": "duplicate"}
    ]
    assert len(graph.sent_to(sender)) == before + len(sent)
    assert graph.private_replies_to(question_id) == []


def test_after_24_hours_the_board_can_no_longer_answer_a_dm_question(dms, desk, graph):
    sender, mid = new_sender(), new_mid()
    during_yesterdays_qa = int((EARLIER + timedelta(minutes=10)).timestamp() * 1000)
    dms.send(sender, FOR_THE_LIVE, mid, at_ms=during_yesterdays_qa)
    question = dms.wait_forwarded(mid)
    assert question["media_id"] == media_id(EARLIER)
    assert graph.wait_for(lambda: dms.passed_on(sender) == 1, WAIT)
    before = len(graph.sent_to(sender))
    question_id = dm_question_id(mid)
    results = dms.ask_desk([question_id, "dm-unknown"], question["topic"])
    assert results == [
        {"comment_id": question_id, "status": "expired"},
        {"comment_id": "dm-unknown", "status": "error"},
    ]
    assert len(graph.sent_to(sender)) == before
