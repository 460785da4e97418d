"""Signed Instagram webhook deliveries replayed against the real Rasa server and action
server, with the Instagram channel enabled and a local stand-in for the Graph API that
records every request the channel makes.

Events that must get no reply are followed by a "sentinel" message from the same sender:
a sender's messages are answered strictly in order, so once the sentinel's answer has
arrived, any reply to the earlier events would have arrived before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from channels.conversation_ids import conversation_id
from channels.instagram import replies
from channels.instagram.formatting import split_text
from channels.instagram.reply_windows import TOO_LATE
from channels.instagram.signature import HEADER, sign
from contracts.recruiter_reply import refusal_in, reply_event
from scripts.stack import ROOT, Stack
from tests.support.graph_api_stand_in import Failure, GraphApiStandIn
from tests.support.instagram_deliveries import (
    Deliveries,
    encode,
    new_mid,
    new_sender,
    signed_headers,
)
from tests.support.instagram_stack import Secrets, rasa_with_instagram

KEYS = Secrets()


def instagram_id(sender: str) -> str:
    """The conversation id of an Instagram sender (IGSID)."""
    return conversation_id("instagram", sender)


d = Deliveries()
WAIT = 90.0


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="careers-instagram-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def server(trained_model: Path, graph: GraphApiStandIn, workdir: Path) -> Iterator[Stack]:
    with rasa_with_instagram(trained_model, graph.url, KEYS, workdir) as stack:
        yield stack


@pytest.fixture(scope="module")
def answers() -> Dict[str, str]:
    """Answer text by response name: FAQ answers and the domain's own responses."""
    texts = {
        name: variants[0]["text"]
        for name, variants in load_data(str(ROOT / "data" / "responses")).responses.items()
    }
    for name, variants in Domain.load(str(ROOT / "domain.yml")).responses.items():
        if variants and variants[0].get("text"):
            texts[name] = variants[0]["text"]
    return texts


class Webhook:
    def __init__(self, server: Stack, graph: GraphApiStandIn, answers: Dict[str, str]):
        self.url = f"{server.url}/webhooks/instagram/webhook"
        self.server = server
        self.graph = graph
        self.answers = answers

    def post(self, body: bytes, headers: Dict[str, str] | None = None) -> requests.Response:
        return requests.post(self.url, data=body, headers=headers or {}, timeout=30)

    def deliver(self, payload: Any, meta_style: bool = True) -> requests.Response:
        body = encode(payload, meta_style)
        reply = self.post(body, signed_headers(KEYS.app_secret, body))
        assert reply.status_code == 200, reply.text
        return reply

    def tap(self, sender: str, payload: str, title: str = "Tap") -> None:
        """The applicant taps a quick reply."""
        self.deliver(d.delivery(d.quick_reply(sender, title, payload)))

    def first_part(self, response: str) -> str:
        return split_text(self.answers[response])[0]

    def sentinel(self, sender: str) -> List[str]:
        """Ask for help and wait for the answer; returns everything the sender received."""
        expected = self.first_part("utter_help")
        before = self.graph.texts_to(sender).count(expected)
        self.tap(sender, "/help", "What can you do?")
        assert self.graph.wait_for(
            lambda: self.graph.texts_to(sender).count(expected) > before, WAIT
        ), self.graph.texts_to(sender)
        return self.graph.texts_to(sender)

    def send_as_bot(self, sender: str, event: Dict[str, Any]) -> None:
        """Add a bot message through Rasa's HTTP API, as the recruiter desk does; Rasa
        sends it through the handoff's channel, Instagram."""
        reply = self.add_events(sender, [event])
        assert reply.status_code == 200, reply.text

    def add_events(self, sender: str, events: List[Dict[str, Any]]) -> requests.Response:
        return requests.post(
            f"{self.server.url}/conversations/{instagram_id(sender)}/tracker/events",
            params={
                "token": self.server.token,
                "output_channel": "instagram",
                "execute_side_effects": "true",
            },
            json=events,
            timeout=30,
        )

    def tracker(self, sender: str) -> Dict[str, Any]:
        url = f"{self.server.url}/conversations/{instagram_id(sender)}/tracker"
        reply = requests.get(url, params={"token": self.server.token}, timeout=30)
        assert reply.status_code == 200
        return reply.json()

    def user_texts(self, sender: str) -> List[str]:
        return [e["text"] for e in self.tracker(sender)["events"] if e["event"] == "user"]


@pytest.fixture
def webhook(server: Stack, graph: GraphApiStandIn, answers: Dict[str, str]) -> Webhook:
    return Webhook(server, graph, answers)


def faq_topics(answers: Dict[str, str], count: int) -> List[str]:
    """``count`` FAQ topics with distinct, single-message answers."""
    topics = []
    seen = set()
    for name in sorted(answers):
        text = answers[name]
        if name.startswith("utter_faq/") and len(split_text(text)) == 1 and text not in seen:
            seen.add(text)
            topics.append(name[len("utter_") :])
    assert len(topics) >= count
    return topics[:count]


# --- the handshake ---------------------------------------------------------------------


def test_the_handshake_answers_the_challenge_only_for_the_right_token(webhook: Webhook):
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": KEYS.verify_token,
        "hub.challenge": "1158201444",
    }
    reply = requests.get(webhook.url, params=good, timeout=10)
    assert reply.status_code == 200 and reply.text == "1158201444"
    assert reply.headers["Content-Type"].startswith("text/plain")
    for bad in (
        {**good, "hub.verify_token": "wrong"},
        {**good, "hub.verify_token": ""},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1158201444"},
    ):
        reply = requests.get(webhook.url, params=bad, timeout=10)
        assert reply.status_code == 403 and "1158201444" not in reply.text
    reply = requests.get(webhook.url, params={**good, "hub.challenge": ""}, timeout=10)
    assert reply.status_code == 400


# --- events ----------------------------------------------------------------------------


def test_a_text_message_is_answered_once_with_quick_replies(webhook: Webhook, graph):
    sender = new_sender()
    mid = new_mid()
    started = time.monotonic()
    reply = webhook.deliver(d.delivery(d.text(sender, "hi there", mid=mid)))
    assert time.monotonic() - started < 5 and reply.text == "EVENT_RECEIVED"
    (greeting,) = graph.wait_for_sends(sender, 1, WAIT)
    assert "automated assistant" in greeting
    (sent,) = graph.sent_to(sender)
    assert sent.body["messaging_type"] == "RESPONSE"
    quick = sent.message["quick_replies"]
    assert 1 <= len(quick) <= 13 and all(len(q["title"]) <= 20 for q in quick)
    assert all(q["content_type"] == "text" and q["payload"] for q in quick)
    # The typing indicator went out before the answer.
    typing = graph.actions_to(sender)
    assert typing and typing[0].sender_action == "typing_on" and typing[0].at <= sent.at
    (user,) = [e for e in webhook.tracker(sender)["events"] if e["event"] == "user"]
    assert user["input_channel"] == "instagram" and user["message_id"] == mid
    assert user["metadata"]["instagram"]["mid"] == mid


def test_a_quick_reply_and_an_ice_breaker_answer_their_topic(webhook: Webhook, graph, answers):
    sender = new_sender()
    webhook.tap(sender, "faq/process_vetting", "What is vetting?")
    expected = split_text(answers["utter_faq/process_vetting"])
    assert graph.wait_for_sends(sender, len(expected), WAIT) == expected
    webhook.deliver(
        d.delivery(
            d.postback(sender, "Who can apply to work at MI5?", "faq/eligibility_nationality")
        )
    )
    more = split_text(answers["utter_faq/eligibility_nationality"])
    assert graph.wait_for_sends(sender, len(expected) + len(more), WAIT) == expected + more
    assert webhook.user_texts(sender) == ["faq/process_vetting", "faq/eligibility_nationality"]


# Story mentions get a thank-you instead (tests/test_instagram_comments.py).
@pytest.mark.parametrize(
    "kind", ["image", "audio", "video", "share", "reel", "ig_reel", "unsupported"]
)
def test_attachments_get_the_text_only_reply_and_are_not_stored(
    webhook: Webhook, graph, workdir: Path, kind: str
):
    sender = new_sender()
    url = f"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={uuid.uuid4().hex}&signature=x"
    event = d.unsupported(sender) if kind == "unsupported" else d.attachment(sender, kind, url)
    webhook.deliver(d.delivery(event))
    (text,) = graph.wait_for_sends(sender, 1, WAIT)
    assert text == replies.ONLY_TEXT
    quick = graph.sent_to(sender)[0].message["quick_replies"]
    assert [q["payload"] for q in quick] == [b["payload"] for b in replies.TOPIC_BUTTONS]
    # Attachments never reach the model, so nothing about them is stored.
    assert webhook.user_texts(sender) == []
    assert url not in json.dumps(webhook.tracker(sender))
    assert url not in (workdir / "servers.log").read_text(errors="replace")


def test_reactions_reads_edits_deletions_and_echoes_get_no_reply(webhook: Webhook, graph):
    sender = new_sender()
    mid = new_mid()
    webhook.deliver(d.delivery(d.quick_reply(sender, "Hi", "/greet", mid=mid)))
    graph.wait_for_sends(sender, 1, WAIT)
    webhook.deliver(d.delivery(d.reaction(sender, mid)))
    webhook.deliver(d.delivery(d.read(sender, mid)))
    webhook.deliver(d.delivery(d.edit(sender, mid, "hello, edited")))
    webhook.deliver(d.delivery(d.deletion(sender, mid)))
    webhook.deliver(d.delivery(d.echo(sender, "a reply a recruiter typed in the app")))
    unknown = {"sender": {"id": sender}, "recipient": {"id": d.account_id}, "optin": {"ref": "x"}}
    webhook.deliver(d.delivery(unknown))
    received = webhook.sentinel(sender)
    assert len(received) == 2  # the greeting, then the sentinel's answer: nothing between
    assert webhook.user_texts(sender) == ["/greet", "/help"]


def test_unsigned_and_badly_signed_deliveries_are_refused_without_effect(webhook: Webhook, graph):
    sender = new_sender()
    body = encode(d.delivery(d.text(sender, "hi there, café / ok")))
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    assert reserialised != body
    sha1 = "sha1=" + hmac.new(KEYS.app_secret.encode(), body, hashlib.sha1).hexdigest()
    attempts = [
        {},
        {"X-Hub-Signature": sha1},
        {HEADER: sign("not-the-app-secret", body)},
        {HEADER: sign(KEYS.app_secret, reserialised)},
        {HEADER: sign(KEYS.app_secret, body)[len("sha256=") :]},
        {HEADER: "sha256=" + "0" * 64, "X-Hub-Signature": sha1},
    ]
    for headers in attempts:
        reply = webhook.post(body, {"Content-Type": "application/json", **headers})
        assert reply.status_code == 403, headers
    received = webhook.sentinel(sender)
    assert len(received) == 1
    assert webhook.user_texts(sender) == ["/help"]


@pytest.mark.parametrize("meta_style", [True, False], ids=["escaped", "raw-utf8"])
def test_bodies_with_emoji_and_escapes_verify(webhook: Webhook, graph, answers, meta_style):
    sender = new_sender()
    event = d.quick_reply(sender, "Who can apply? 🇬🇧 café / naïve", "faq/eligibility_nationality")
    body = encode(d.delivery(event), meta_style)
    assert (b"\\u" in body) is meta_style
    assert webhook.post(body, signed_headers(KEYS.app_secret, body)).status_code == 200
    expected = split_text(answers["utter_faq/eligibility_nationality"])
    assert graph.wait_for_sends(sender, len(expected), WAIT) == expected


# --- exactly one answer, in order ------------------------------------------------------


def test_a_redelivered_message_is_answered_exactly_once(webhook: Webhook, graph, answers):
    sender = new_sender()
    body = encode(d.delivery(d.quick_reply(sender, "Pay", "faq/life_salary")))
    headers = signed_headers(KEYS.app_secret, body)
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: webhook.post(body, headers).status_code, range(4)))
    statuses.append(webhook.post(body, headers).status_code)
    assert statuses == [200] * 5
    received = webhook.sentinel(sender)
    assert received.count(webhook.first_part("utter_faq/life_salary")) == 1
    assert webhook.user_texts(sender) == ["faq/life_salary", "/help"]


def test_a_message_acknowledged_during_a_database_outage_is_answered_after_it(
    webhook: Webhook, graph, workdir: Path
):
    """Meta will not resend an acknowledged message, so the channel tries it again."""
    sender = new_sender()
    outage = sqlite3.connect(workdir / "tracker.db", isolation_level=None)
    outage.execute("BEGIN EXCLUSIVE")  # nobody can read or write the tracker store
    try:
        webhook.tap(sender, "faq/life_salary", "Pay")  # acknowledged with 200
        assert not graph.wait_for(lambda: bool(graph.sent_to(sender)), 8.0)
    finally:
        outage.execute("ROLLBACK")
        outage.close()
    received = webhook.sentinel(sender)
    assert received.count(webhook.first_part("utter_faq/life_salary")) == 1
    assert replies.SORRY not in received
    assert webhook.user_texts(sender) == ["faq/life_salary", "/help"]
    log = (workdir / "servers.log").read_text(encoding="utf-8", errors="replace")
    assert "instagram.message.retry" in log


def test_ten_rapid_messages_from_one_sender_are_answered_in_order(webhook: Webhook, graph, answers):
    sender = new_sender()
    topics = faq_topics(answers, 10)
    for topic in topics:  # each in its own delivery, back to back
        webhook.tap(sender, topic)
    received = graph.wait_for_sends(sender, 10, WAIT)
    assert received == [answers[f"utter_{topic}"] for topic in topics]
    assert webhook.user_texts(sender) == topics


def test_every_event_of_a_multi_entry_delivery_is_handled_in_timestamp_order(
    webhook: Webhook, graph, answers
):
    first, second = new_sender(), new_sender()
    topics = faq_topics(answers, 3)
    now = int(time.time() * 1000)

    def tap(sender: str, topic: str, at: int) -> Dict[str, Any]:
        event = d.quick_reply(sender, "Tap", topic)
        event["timestamp"] = at
        return event

    webhook.deliver(
        d.entries(
            [
                [tap(first, topics[2], now + 30), tap(second, topics[0], now + 5)],
                [tap(first, topics[0], now + 10)],
                [tap(first, topics[1], now + 20)],
            ]
        )
    )
    assert graph.wait_for_sends(first, 3, WAIT) == [answers[f"utter_{t}"] for t in topics]
    assert graph.wait_for_sends(second, 1, WAIT) == [answers[f"utter_{topics[0]}"]]


# --- sending -----------------------------------------------------------------------------


def test_long_replies_are_split_and_buttons_become_quick_replies(webhook: Webhook, graph):
    sender = new_sender()
    webhook.deliver(d.delivery(d.text(sender, "hi there")))
    graph.wait_for_sends(sender, 1, WAIT)
    text = "\n".join(
        f"Step {i}: we check identity, record and references carefully 🔍. It takes time."
        for i in range(40)
    )
    assert len(text.encode("utf-8")) > 2500
    buttons = [
        {"title": f"Button with a long title {i}", "payload": f"/help{i}"} for i in range(15)
    ]
    webhook.send_as_bot(sender, {"event": "bot", "text": text, "data": {"buttons": buttons}})
    sent = graph.sent_to(sender)[1:]
    assert len(sent) >= 3
    assert "\n".join(s.text or "" for s in sent) == text
    assert all(len((s.text or "").encode("utf-8")) <= 1000 for s in sent)
    assert all(s.text.endswith("It takes time.") for s in sent)  # cut at line ends
    quick = sent[-1].message["quick_replies"]
    assert len(quick) == 13 and all(len(q["title"]) <= 20 for q in quick)
    assert all("quick_replies" not in s.message for s in sent[:-1])


def test_a_recruiter_reply_after_the_window_carries_the_human_agent_tag(webhook: Webhook, graph):
    """The desk's event is channel-neutral (contracts/recruiter_reply.py); the channel
    decides that a reply 25 hours after the applicant's last message needs the tag."""
    sender = new_sender()
    webhook.deliver(d.delivery(d.text(sender, "hi there")))
    graph.wait_for_sends(sender, 1, WAIT)
    event = reply_event("Hi, it's Sam from recruitment.", 1, time.time() - 25 * 3600)
    webhook.send_as_bot(sender, event)
    last = graph.sent_to(sender)[-1]
    assert last.text == "Hi, it's Sam from recruitment."
    assert last.body["messaging_type"] == "MESSAGE_TAG" and last.body["tag"] == "HUMAN_AGENT"


def test_a_recruiter_reply_after_seven_days_is_refused_and_not_stored(webhook: Webhook, graph):
    sender = new_sender()
    webhook.deliver(d.delivery(d.text(sender, "hi there")))
    graph.wait_for_sends(sender, 1, WAIT)
    event = reply_event("Hi, it's Sam from recruitment.", 1, time.time() - 8 * 24 * 3600)
    answer = webhook.add_events(sender, [event])
    assert answer.status_code == 500
    assert refusal_in(answer.json()["message"]) == TOO_LATE
    assert "Hi, it's Sam from recruitment." not in graph.texts_to(sender)
    texts = [e.get("text") for e in webhook.tracker(sender)["events"] if e["event"] == "bot"]
    assert "Hi, it's Sam from recruitment." not in texts


def test_graph_api_500_and_429_are_retried_until_the_reply_arrives(
    webhook: Webhook, graph, answers
):
    sender = new_sender()
    graph.fail_next(sender, [Failure(500, code=2), Failure(429, code=4)])
    webhook.tap(sender, "faq/process_vetting")
    expected = split_text(answers["utter_faq/process_vetting"])
    assert graph.wait_for_sends(sender, len(expected), WAIT) == expected
    attempts = graph.sent_to(sender, include_failed=True)
    assert [a.status for a in attempts[:3]] == [500, 429, 200]
    assert attempts[0].body == attempts[2].body


def test_an_invalid_token_is_not_retried_and_never_logged(
    webhook: Webhook, graph, answers, workdir: Path
):
    sender = new_sender()
    graph.always_fail(sender, Failure(400, code=190, subcode=463))
    webhook.tap(sender, "faq/process_vetting")
    webhook.tap(sender, "faq/eligibility_nationality")
    # One attempt per reply: the second message is only handled after the first is done.
    assert graph.wait_for(lambda: len(graph.sent_to(sender, include_failed=True)) >= 2, WAIT)
    time.sleep(1.5)  # longer than the first retry's backoff would be
    attempts = graph.sent_to(sender, include_failed=True)
    assert len(attempts) == 2 and {a.status for a in attempts} == {400}
    log = (workdir / "servers.log").read_text(errors="replace")
    assert "code=190" in log
    assert KEYS.access_token not in log
    assert split_text(answers["utter_faq/process_vetting"])[0] not in log
    # The conversation itself is kept.
    assert webhook.user_texts(sender) == ["faq/process_vetting", "faq/eligibility_nationality"]


# --- flood control, bad input, load ----------------------------------------------------


def test_a_flooding_sender_is_slowed_down_and_others_are_not(webhook: Webhook, graph):
    flooder, other = new_sender(), new_sender()
    for i in range(26):
        webhook.tap(flooder, "/help", f"Help {i}")
        if i == 22:
            webhook.tap(other, "/help")
    assert graph.wait_for(lambda: replies.SLOW_DOWN in graph.texts_to(flooder), WAIT)
    received = graph.texts_to(flooder)
    # The slow-down notice is queued after the 20 accepted messages and is the last send.
    assert received[-1] == replies.SLOW_DOWN and received.count(replies.SLOW_DOWN) == 1
    assert len(received) == 21
    assert len(webhook.user_texts(flooder)) == 20
    assert graph.wait_for_sends(other, 1, WAIT) == [webhook.first_part("utter_help")]


def test_oversized_bodies_are_refused_and_300_kb_passes(webhook: Webhook, graph, answers):
    sender = new_sender()
    big = encode(d.delivery(d.text(sender, "x" * (1024 * 1024))))
    assert webhook.post(big, signed_headers(KEYS.app_secret, big)).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 65536

    chunked = requests.post(
        webhook.url, data=chunks(), headers={HEADER: "sha256=" + "0" * 64}, timeout=30
    )
    assert chunked.status_code == 413
    # A real 300 KB delivery: a backlog of read receipts, then a question.
    reads = [d.read(sender, new_mid()) for _ in range(1550)]
    payload = d.delivery(*reads, d.quick_reply(sender, "Pay", "faq/life_salary"))
    body = encode(payload)
    assert 300_000 <= len(body) <= 1024 * 1024
    assert webhook.post(body, signed_headers(KEYS.app_secret, body)).status_code == 200
    expected = split_text(answers["utter_faq/life_salary"])
    assert graph.wait_for_sends(sender, len(expected), WAIT) == expected
    assert webhook.user_texts(sender) == ["faq/life_salary"]


@pytest.mark.parametrize(
    "body, status, error",
    [
        (b"\xff\xfe\x00{", 400, "not UTF-8"),
        (b'{"object": "instagram", "entry": [', 400, "not valid JSON"),
        (b"[" * 50_000, 400, "nested too deeply"),
        (b"[]", 400, "must be a JSON object"),
        (b'{"entry": []}', 400, "'object' is missing"),
        (b'{"object": "instagram"}', 400, "'entry' must be a list"),
        (b'{"object": "page", "entry": [{"messaging": []}]}', 200, ""),
        (b'{"object": "instagram", "entry": [{"id": "1", "changes": []}]}', 200, ""),
        (b"", 400, "not valid JSON"),
    ],
)
def test_signed_but_malformed_bodies_get_a_precise_answer(webhook: Webhook, body, status, error):
    reply = webhook.post(body, signed_headers(KEYS.app_secret, body))
    assert reply.status_code == status
    if error:
        assert error in reply.json()["error"]


def test_fifty_concurrent_deliveries_are_all_acknowledged_and_answered(webhook: Webhook, graph):
    senders = [new_sender() for _ in range(50)]

    def deliver(sender: str) -> int:
        body = encode(d.delivery(d.quick_reply(sender, "Help", "/help")))
        return webhook.post(body, signed_headers(KEYS.app_secret, body)).status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(deliver, senders))
    assert statuses == [200] * 50
    expected = webhook.first_part("utter_help")
    assert graph.wait_for(lambda: all(len(graph.sent_to(s)) >= 1 for s in senders), 180), sum(
        1 for s in senders if graph.sent_to(s)
    )
    assert all(graph.texts_to(s) == [expected] for s in senders)
