"""No channel can reach another channel's conversation, and a recruiter's reply goes where
the applicant is: the real Rasa server, action server and desk, with the Instagram channel
talking to a stand-in for the Graph API.

The probes of issue 15: an unauthenticated REST client naming an applicant's Instagram id
(to erase their conversation), a socket.io client proposing it as its session id (to
receive the recruiter's reply), and a reply sent after another channel touched the
conversation.
"""

from __future__ import annotations

import queue
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests

from channels.conversation_ids import conversation_id
from scripts.stack import Stack
from tests.desk_support import desk_cli
from tests.support.graph_api_stand_in import GraphApiStandIn
from tests.support.instagram_deliveries import Deliveries, new_sender, signed_headers
from tests.support.instagram_deliveries import encode as encode_delivery
from tests.support.instagram_stack import Secrets, rasa_with_instagram
from tests.webchat_support import ChatClient

KEYS = Secrets()
REST_TOKEN = "rest-channel-test-token"
d = Deliveries()
PROMISE = "A recruiter will reply here"
REPLY = "Hi, this is Alice from recruitment."
# A message added through Rasa's HTTP API as if it came over socket.io.
ANOTHER_CHANNELS_MESSAGE = {
    "event": "user",
    "text": "hello",
    "input_channel": "socketio",
    "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "text": "hello"},
}


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def servers(trained_model: Path, graph: GraphApiStandIn) -> Iterator[Stack]:
    """Rasa (REST with a token, socket.io, Instagram), the action server and the desk."""
    with tempfile.TemporaryDirectory(prefix="careers-ownership-") as tmp:
        env = {"DESK_DATABASE_URL": f"sqlite:///{tmp}/desk.db", "REST_CHANNEL_TOKEN": REST_TOKEN}
        with rasa_with_instagram(trained_model, graph.url, KEYS, Path(tmp), extra_env=env) as stack:
            yield stack  # the desk started with the stack


@pytest.fixture(scope="module")
def recruiter(servers: Stack) -> str:
    database_url = servers.env["DESK_DATABASE_URL"]
    made = desk_cli(database_url, "create-user", "alice", stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr
    return desk_cli(database_url, "create-token", "alice").stdout.strip()


def instagram_says(servers: Stack, graph: GraphApiStandIn, sender: str, text: str) -> None:
    """An Instagram message; returns once the assistant has answered it."""
    before = len(graph.texts_to(sender))
    body = encode_delivery(d.delivery(d.text(sender, text)), True)
    reply = requests.post(
        f"{servers.url}/webhooks/instagram/webhook",
        data=body,
        headers=signed_headers(KEYS.app_secret, body),
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert graph.wait_for(lambda: len(graph.texts_to(sender)) > before, 90)


def rest_says(servers: Stack, sender: str, text: str) -> requests.Response:
    return requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {REST_TOKEN}"},
        timeout=60,
    )


def tracker(servers: Stack, conversation: str) -> Dict[str, Any]:
    return dict(
        requests.get(
            f"{servers.url}/conversations/{conversation}/tracker",
            params={"token": servers.token},
            timeout=30,
        ).json()
    )


def user_texts(servers: Stack, conversation: str) -> List[str]:
    return [e["text"] for e in tracker(servers, conversation)["events"] if e["event"] == "user"]


def desk(servers: Stack, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{servers.desk_url}/api{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        **kwargs,
    )


def test_the_rest_channel_needs_its_token_when_one_is_set(servers: Stack):
    reply = requests.post(
        f"{servers.url}/webhooks/rest/webhook",
        json={"sender": "someone", "message": "hello"},
        timeout=30,
    )
    assert reply.status_code == 401 and "token" in reply.json()["error"]
    assert rest_says(servers, "someone", "hello").status_code == 200


def test_rest_cannot_erase_an_instagram_conversation(servers: Stack, graph: GraphApiStandIn):
    applicant = new_sender()
    instagram = conversation_id("instagram", applicant)
    instagram_says(servers, graph, applicant, "can I apply if I live abroad?")
    for claimed in (applicant, instagram):
        assert rest_says(servers, claimed, "please delete my data").status_code == 200
        assert rest_says(servers, claimed, "/affirm").status_code == 200
    assert user_texts(servers, instagram) == ["can I apply if I live abroad?"]
    assert "/affirm" in user_texts(servers, conversation_id("rest", instagram))


def test_the_recruiters_reply_goes_to_the_handoffs_channel(
    servers: Stack, graph: GraphApiStandIn, recruiter: str
):
    applicant = new_sender()
    instagram = conversation_id("instagram", applicant)
    instagram_says(servers, graph, applicant, "can I talk to a recruiter")
    assert graph.wait_for(lambda: any(PROMISE in t for t in graph.texts_to(applicant)), 30)
    waiting = desk(servers, recruiter, "GET", "/handoffs?status=waiting").json()["handoffs"]
    [handoff] = [h for h in waiting if h["sender_id"] == instagram]
    assert handoff["channel"] == "instagram"

    with ChatClient(servers.url) as attacker:
        # A socket.io client proposing the applicant's ids gets a session of its own...
        for proposed in (applicant, instagram):
            assert attacker.session(proposed) not in (applicant, instagram)
        attacker.send("hello", session_id=instagram)
        attacker.next_text()
        # ...and even when something moves the conversation's latest input channel (here an
        # event added through Rasa's HTTP API), the reply still goes to Instagram.
        moved = requests.post(
            f"{servers.url}/conversations/{instagram}/tracker/events",
            params={"token": servers.token},
            json=[ANOTHER_CHANNELS_MESSAGE],
            timeout=30,
        )
        assert moved.status_code == 200, moved.text
        assert tracker(servers, instagram)["latest_input_channel"] == "socketio"

        assert desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/claim").ok
        sent = desk(
            servers, recruiter, "POST", f"/handoffs/{handoff['id']}/messages", json={"text": REPLY}
        )
        assert sent.status_code == 201 and sent.json()["delivered"], sent.text
        assert graph.wait_for(lambda: REPLY in graph.texts_to(applicant), 30)
        with pytest.raises(queue.Empty):
            while True:
                assert attacker.received.get(timeout=3).get("text") != REPLY
    desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/close")
