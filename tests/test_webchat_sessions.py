"""Web chat sessions belong to the browser the server issued them to (channels/socketio.py).

Against the real Rasa server: a proposed session id the server did not issue gets a fresh
one, a message naming another session lands in the sender's own conversation, and a page
from a foreign origin cannot connect.
"""

from __future__ import annotations

import queue
import re
import uuid

import pytest
import requests

from scripts.stack import Stack
from tests.conftest import webchat_id
from tests.webchat_support import ChatClient

ISSUED = re.compile(r"^[0-9a-f]{32}\.[0-9a-f]{32}$")


def user_texts(stack: Stack, conversation: str) -> list[str]:
    tracker = requests.get(
        f"{stack.url}/conversations/{conversation}/tracker",
        params={"token": stack.token},
        timeout=30,
    ).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


@pytest.mark.parametrize(
    "proposed",
    [
        "applicant-123",
        uuid.uuid4().hex,
        "instagram:17841400000000001",
        f"{uuid.uuid4().hex}.{uuid.uuid4().hex}",  # the right shape, not signed by the server
    ],
    ids=["chosen", "uuid", "other-channel", "forged"],
)
def test_a_session_id_the_server_did_not_issue_gets_a_fresh_one(stack: Stack, proposed: str):
    with ChatClient(stack.url) as chat:
        issued = chat.session(proposed)
    assert issued != proposed and ISSUED.match(issued)


def test_an_issued_session_id_is_kept_but_its_conversation_key_alone_is_not(stack: Stack):
    with ChatClient(stack.url) as first:
        issued = first.session()
        first.send("hello")
        first.next_text()
    with ChatClient(stack.url) as again:
        assert again.session(issued) == issued  # the same browser, reconnecting
    with ChatClient(stack.url) as other:
        assert other.session(issued.split(".")[0]) != issued


def test_a_message_naming_another_session_stays_in_the_senders_own(stack: Stack):
    with ChatClient(stack.url) as victim, ChatClient(stack.url) as attacker:
        victims_session = victim.session()
        attackers_session = attacker.session()
        attacker.send("please delete my data", session_id=victims_session)
        assert attacker.next_text()
        with pytest.raises(queue.Empty):
            victim.received.get(timeout=3)
    assert user_texts(stack, webchat_id(attackers_session)) == ["please delete my data"]
    assert user_texts(stack, webchat_id(victims_session)) == []


def handshake(stack: Stack, origin: str) -> requests.Response:
    """The first request a browser's socket.io client makes (Engine.IO polling)."""
    return requests.get(
        f"{stack.url}/socket.io/",
        params={"EIO": "4", "transport": "polling"},
        headers={"Origin": origin},
        timeout=30,
    )


def test_a_page_from_a_foreign_origin_cannot_connect(stack: Stack):
    refused = handshake(stack, "https://attacker.example")
    assert refused.status_code == 400 and "origin" in refused.text.lower()
    assert handshake(stack, stack.url).status_code == 200
    assert handshake(stack, stack.url.replace("localhost", "127.0.0.1")).status_code == 400
