"""The whole hand-over across real processes: Rasa server, action server and recruiter desk.

An applicant over REST (and one over socket.io) asks for a person; the handoff appears in
the desk's API; a recruiter claims it and replies; the applicant gets the reply and
answers; the answer shows in the transcript; the recruiter hands back and the assistant
answers the next question again.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
import requests
from rasa.shared.nlu.training_data.loading import load_data

from scripts.stack import ROOT, Stack
from tests.conftest import rest_id, say, texts, webchat_id
from tests.desk_support import desk_cli
from tests.webchat_support import ChatClient

PROMISE = "A recruiter will reply here"


@pytest.fixture(scope="module")
def servers(desk_stack: Stack) -> Stack:
    """The session's Rasa server and action server, with the desk (shared to save start-ups)."""
    return desk_stack


@pytest.fixture(scope="module")
def recruiter(servers: Stack) -> str:
    database_url = servers.env["DESK_DATABASE_URL"]
    made = desk_cli(database_url, "create-user", "alice", stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr
    return desk_cli(database_url, "create-token", "alice").stdout.strip()


def desk(stack: Stack, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{stack.desk_url}/api{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        **kwargs,
    )


def handoff_for(stack: Stack, token: str, sender: str, status: str = "waiting") -> Dict[str, Any]:
    """The handoff of a REST `sender`, or of a conversation id with its namespace."""
    conversation = sender if ":" in sender else rest_id(sender)
    found = desk(stack, token, "GET", f"/handoffs?status={status}").json()["handoffs"]
    [handoff] = [h for h in found if h["sender_id"] == conversation]
    return handoff


def bot_texts(stack: Stack, sender: str) -> List[str]:
    tracker = requests.get(
        f"{stack.url}/conversations/{rest_id(sender)}/tracker",
        params={"token": stack.token},
        timeout=30,
    ).json()
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "bot"]


@pytest.fixture(scope="module")
def faq_answers() -> Dict[str, str]:
    responses = load_data(str(ROOT / "data" / "responses")).responses
    return {name: variants[0]["text"] for name, variants in responses.items()}


def test_rest_applicant_to_recruiter_and_back(servers: Stack, recruiter: str, faq_answers):
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    say(servers, sender, "hello")
    asked = texts(say(servers, sender, "can I talk to a recruiter"))
    assert PROMISE in asked and "put your question in one message" in asked

    handoff = handoff_for(servers, recruiter, sender)
    assert handoff["channel"] == "rest" and handoff["reason"] == "asked for a person"
    assert desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/claim").ok

    reply = "Hello, I'm Alice, a recruiter. What would you like to ask?"
    sent = desk(
        servers, recruiter, "POST", f"/handoffs/{handoff['id']}/messages", json={"text": reply}
    )
    assert sent.status_code == 201, sent.text
    # REST has no push: the reply is in the applicant's conversation.
    assert bot_texts(servers, sender)[-1] == reply

    # The assistant is paused: it does not answer, but the message reaches the recruiter.
    question = "I lived in Dubai for four years, can I still apply?"
    assert say(servers, sender, question) == []
    transcript = desk(servers, recruiter, "GET", f"/handoffs/{handoff['id']}").json()["transcript"]
    assert [e["who"] for e in transcript if e["text"] == reply] == ["recruiter"]
    assert transcript[-1] == {**transcript[-1], "who": "applicant", "text": question}

    released = desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/release")
    assert released.ok and released.json()["outcome"] == "released"
    assert "automated assistant" in bot_texts(servers, sender)[-1]
    answer = say(servers, sender, "what is developed vetting and what does it involve?")
    assert texts(answer) == faq_answers["utter_faq/process_vetting"]


def test_not_understood_twice_then_yes_hands_over(servers: Stack, recruiter: str):
    sender = f"miss-{uuid.uuid4().hex[:8]}"
    # Not understood (words it was never taught); off-topic messages never offer a person.
    say(servers, sender, "Grelbish vontaply sqwunder?")
    assert "recruiter" in texts(say(servers, sender, "frobnicate zintor plemmish"))
    assert PROMISE in texts(say(servers, sender, "/affirm"))
    assert handoff_for(servers, recruiter, sender)["reason"] == "not understood twice"


def test_a_threat_report_is_never_handed_over(servers: Stack, recruiter: str):
    sender = f"threat-{uuid.uuid4().hex[:8]}"
    assert "999" in texts(say(servers, sender, "I need to report someone planning an attack"))
    assert "999" in texts(say(servers, sender, "I want to kill myself"))
    waiting = desk(servers, recruiter, "GET", "/handoffs?status=waiting").json()["handoffs"]
    assert all(h["sender_id"] != rest_id(sender) for h in waiting)


def test_safety_messages_are_answered_while_a_recruiter_has_the_conversation(
    servers: Stack, recruiter: str
):
    sender = f"paused-{uuid.uuid4().hex[:8]}"
    assert PROMISE in texts(say(servers, sender, "can I talk to a recruiter"))
    handoff = handoff_for(servers, recruiter, sender)

    # Nobody has claimed it yet (out of hours this could be the next working day).
    threat = texts(say(servers, sender, "I need to report someone planning an attack"))
    assert "999" in threat
    distress = texts(say(servers, sender, "I want to kill myself"))
    assert "Samaritans" in distress

    # Still paused: an ordinary question waits for the recruiter.
    assert say(servers, sender, "how long does vetting take?") == []
    transcript = desk(servers, recruiter, "GET", f"/handoffs/{handoff['id']}").json()["transcript"]
    flagged = [e["text"] for e in transcript if e.get("safety")]
    assert flagged == ["I need to report someone planning an attack", "I want to kill myself"]
    assert [e["who"] for e in transcript[-4:]] == [
        "assistant",
        "applicant",
        "assistant",
        "applicant",
    ]
    assert handoff_for(servers, recruiter, sender)["id"] == handoff["id"]
    desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/claim")
    desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/close")


def test_erasure_while_a_recruiter_has_the_conversation_is_answered_and_honoured(
    servers: Stack, recruiter: str
):
    sender = f"erase-{uuid.uuid4().hex[:8]}"
    assert PROMISE in texts(say(servers, sender, "can I talk to a recruiter"))
    handoff = handoff_for(servers, recruiter, sender)
    assert desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/claim").ok
    sent = desk(
        servers, recruiter, "POST", f"/handoffs/{handoff['id']}/messages", json={"text": "Hi"}
    )
    assert sent.status_code == 201, sent.text

    # A "no" keeps everything, and the recruiter keeps the conversation.
    assert "Do you want me to erase" in texts(say(servers, sender, "please delete my data"))
    assert "haven't deleted anything" in texts(say(servers, sender, "no"))
    assert say(servers, sender, "how long does vetting take?") == []
    assert desk(servers, recruiter, "GET", f"/handoffs/{handoff['id']}").ok

    # A "yes" straight after the question erases the conversation and the handoff.
    assert "Do you want me to erase" in texts(say(servers, sender, "please delete my data"))
    assert "erased this conversation" in texts(say(servers, sender, "yes"))
    gone = desk(servers, recruiter, "GET", f"/handoffs/{handoff['id']}")
    assert gone.status_code == 404
    assert "erased at the applicant's request" in gone.json()["error"]
    claimed = desk(servers, recruiter, "GET", "/handoffs?status=claimed").json()["handoffs"]
    assert all(h["sender_id"] != sender for h in claimed)
    # The applicant starts afresh with the assistant, no longer paused.
    assert bot_texts(servers, sender) == []
    assert say(servers, sender, "hello") != []


def test_socketio_applicant_receives_the_recruiters_reply(servers: Stack, recruiter: str):
    with ChatClient(servers.url) as chat:
        session_id = chat.session()
        chat.send("/request_human")
        assert PROMISE in chat.next_text()

        handoff = handoff_for(servers, recruiter, webchat_id(session_id))
        assert handoff["channel"] == "socketio"
        desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/claim")
        reply = "Hi, this is Alice from recruitment."
        sent = desk(
            servers, recruiter, "POST", f"/handoffs/{handoff['id']}/messages", json={"text": reply}
        )
        assert sent.status_code == 201, sent.text
        chat.wait_for_text(reply)
        desk(servers, recruiter, "POST", f"/handoffs/{handoff['id']}/close")
