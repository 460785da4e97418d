"""Bad input and floods on the REST and socket.io channels, against the real Rasa server.

Each refused request gets a short JSON error (or an ``error`` event) before any work, and
nothing is stored for it; a sender's burst gets one "slow down" reply and is refused beyond
that, while another applicant is still answered promptly (channels/limits.py).
"""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest
import requests

from channels.limits import SLOW_DOWN
from desk.storage import make_engine
from scripts.stack import Stack
from tests.conftest import rest_id, say, texts, webchat_id
from tests.privacy_support import event_count
from tests.webchat_support import ChatClient

LIMIT = 20  # CHANNEL_MESSAGES_PER_WINDOW's default, which the `stack` fixture uses


def post(stack: Stack, **kwargs: Any) -> requests.Response:
    return requests.post(f"{stack.url}/webhooks/rest/webhook", timeout=60, **kwargs)


def stored_events(stack: Stack, conversation: str) -> int:
    return event_count(make_engine(stack.env["DESK_DATABASE_URL"]), conversation)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": b"[1, 2]"}, 400),
        ({"data": b"not json"}, 400),
        ({"json": "a string"}, 400),
        ({"json": {"message": "hello"}}, 400),
        ({"json": {"sender": None, "message": "hello"}}, 400),
        ({"json": {"sender": 123, "message": "hello"}}, 400),
        ({"json": {"sender": "SENDER"}}, 400),
        ({"json": {"sender": "SENDER", "message": None}}, 400),
        ({"json": {"sender": "SENDER", "message": 123}}, 400),
        ({"json": {"sender": "SENDER", "message": ["hello"]}}, 400),
        ({"json": {"sender": "SENDER", "message": "x" * 4001}}, 413),
        ({"data": b'{"sender": "SENDER", "message": "' + b"x" * 2_000_000 + b'"}'}, 413),
    ],
    ids=["list", "not-json", "json-string", "no-sender", "null-sender", "number-sender",
         "no-message", "null-message", "number-message", "list-message", "4001-chars", "2-MB"],
)  # fmt: skip
def test_rest_refuses_bad_input_with_a_short_json_error(
    stack: Stack, body: Dict[str, Any], status: int
):
    sender = f"bad-{uuid.uuid4().hex[:8]}"
    if "json" in body and isinstance(body["json"], dict):
        body = {"json": {k: sender if v == "SENDER" else v for k, v in body["json"].items()}}
    if "data" in body:
        body = {"data": body["data"].replace(b"SENDER", sender.encode())}
    reply = post(stack, **body)
    assert reply.status_code == status, reply.text
    assert set(reply.json()) == {"error"} and len(reply.text) < 200
    assert stored_events(stack, rest_id(sender)) == 0


def test_rest_ignores_a_claimed_input_channel(stack: Stack):
    sender = f"claims-{uuid.uuid4().hex[:8]}"
    reply = post(stack, json={"sender": sender, "message": "hello", "input_channel": "instagram"})
    assert reply.status_code == 200 and reply.json()[0]["recipient_id"] == rest_id(sender)
    tracker = requests.get(
        f"{stack.url}/conversations/{rest_id(sender)}/tracker",
        params={"token": stack.token},
        timeout=30,
    ).json()
    assert tracker["latest_input_channel"] == "rest"


def test_a_rest_flood_gets_one_slow_down_and_others_are_still_answered(stack: Stack):
    flooder, other = f"flood-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    say(stack, other, "hello")  # warm
    latencies: List[float] = []

    def flood(i: int) -> requests.Response:
        return post(stack, json={"sender": flooder, "message": f"hello {i}"})

    with ThreadPoolExecutor(max_workers=50) as pool:
        burst = [pool.submit(flood, i) for i in range(200)]
        time.sleep(0.3)
        for _ in range(5):
            started = time.monotonic()
            assert texts(say(stack, other, "how long does vetting take?"))
            latencies.append(time.monotonic() - started)
        replies = [future.result() for future in burst]

    statuses = [reply.status_code for reply in replies]
    assert set(statuses) <= {200, 429}, statuses
    slowed = [r for r in replies if r.status_code == 200 and texts(r.json()) == SLOW_DOWN]
    assert len(slowed) == 1
    assert statuses.count(200) == LIMIT + 1
    assert all(r.json() == {"error": r.json()["error"]} for r in replies if r.status_code == 429)
    assert max(latencies) < 3.0, latencies


def test_socketio_refuses_bad_input_with_an_error_event(stack: Stack):
    with ChatClient(stack.url) as chat:
        chat.send("hello before any session")
        assert chat.errors.get(timeout=30)["status"] == 400
        session_id = chat.session()
        for message, status in ((123, 400), (None, 400), (["hi"], 400), ("x" * 4001, 413)):
            chat.send(message)
            error = chat.errors.get(timeout=30)
            assert error["status"] == status and error["error"], error
        assert chat.received.empty()
    assert stored_events(stack, webchat_id(session_id)) == 0


def test_a_socketio_flood_gets_one_slow_down(stack: Stack):
    with ChatClient(stack.url) as chat:
        chat.session()
        for i in range(LIMIT + 10):
            chat.send(f"hello {i}")
        refused = [chat.errors.get(timeout=60) for _ in range(9)]
        assert {error["status"] for error in refused} == {429}
        received: List[str] = []
        with contextlib.suppress(queue.Empty):
            while True:  # until the answers stop coming
                received.append(chat.next_text(timeout=15))
        assert received.count(SLOW_DOWN) == 1
        assert chat.errors.empty()
