"""Erasure on request, through real conversations with the real Rasa server and action server:
on SQLite (the `stack` fixture, as `make run`) and on PostgreSQL with a Redis lock store.

One applicant asks for a person (a real handoff, to which a recruiter adds a note), is handed
back, asks to delete their data and says yes: their conversation and desk records are gone,
another applicant's are untouched, and their next message starts a new conversation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any, Dict, List

import pytest
import requests
import sqlalchemy as sa

from desk.storage import Store, audit, handoffs, make_engine, messages
from scripts.stack import ROOT, Stack, free_port, quiet_env
from tests.conftest import rest_id, say, texts
from tests.privacy_support import BACKENDS, Servers, event_count, running_servers, stored_texts

QUESTION = "Do you want me to erase this conversation?"
ERASED = "I've erased this conversation"
KEPT = "I haven't deleted anything"
GREETING = "I'm MI5's careers assistant"


@pytest.fixture(params=BACKENDS)
def servers(request: pytest.FixtureRequest) -> Servers:
    return running_servers(request)


def append_events(stack: Stack, sender: str, events: List[Dict[str, Any]]) -> None:
    """As the desk does through Rasa's HTTP API."""
    params, headers = stack.api_auth()
    reply = requests.post(
        f"{stack.url}/conversations/{sender}/tracker/events",
        params=params,
        headers=headers,
        json=events,
        timeout=60,
    )
    assert reply.status_code == 200, reply.text


def all_event_data(engine: sa.engine.Engine, sender: str) -> str:
    with engine.connect() as db:
        rows = db.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        )
        return "\n".join(row[0] for row in rows)


def desk_rows(engine: sa.engine.Engine, sender: str) -> tuple[List[int], List[str]]:
    with engine.connect() as db:
        ids = list(
            db.execute(sa.select(handoffs.c.id).where(handoffs.c.sender_id == sender)).scalars()
        )
        notes = list(
            db.execute(sa.select(messages.c.text).where(messages.c.handoff_id.in_(ids))).scalars()
        )
    return ids, notes


def test_erasure_removes_one_applicants_data_and_nobody_elses(servers: Servers):
    stack, engine = servers.stack, make_engine(servers.database_url)
    run = uuid.uuid4().hex[:8]
    erasing, other = f"erasing-{run}", f"other-{run}"
    secret, others_secret = f"Quillfeather{run}", f"Brackenridge{run}"

    say(stack, erasing, f"hi, my name is {secret}, can I apply if I live abroad?")
    assert "recruiter will reply" in texts(say(stack, erasing, "can I talk to a person please"))
    say(stack, other, f"hello, I'm {others_secret}, how long does vetting take?")
    say(stack, other, "can I talk to a person please")
    (erasing_handoff,), _ = desk_rows(engine, rest_id(erasing))
    desk = Store(servers.database_url)
    assert desk.claim(erasing_handoff, "alice", 1.0)
    desk.add_message(erasing_handoff, "alice", "note", f"asked about {secret}", 2.0)
    assert desk.finish(erasing_handoff, "alice", "released", 3.0)
    append_events(
        stack, rest_id(erasing), [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    )
    others_events = event_count(engine, rest_id(other))
    others_handoffs = desk_rows(engine, rest_id(other))
    assert others_handoffs[0] and secret in all_event_data(engine, rest_id(erasing))

    question = say(stack, erasing, "i want my data deleted")
    assert QUESTION in texts(question)
    assert [b["payload"] for b in question[-1]["buttons"]] == ["/affirm", "/deny"]
    assert ERASED in texts(say(stack, erasing, "/affirm"))

    assert event_count(engine, rest_id(erasing)) == 0
    assert desk_rows(engine, rest_id(erasing)) == ([], [])
    assert event_count(engine, rest_id(other)) == others_events
    assert desk_rows(engine, rest_id(other)) == others_handoffs
    assert others_secret in all_event_data(engine, rest_id(other))
    with engine.connect() as db:
        erased = db.execute(audit.select().where(audit.c.action == "erased")).mappings().all()
    assert erasing_handoff in {entry["handoff_id"] for entry in erased}
    assert not any(erasing in (entry["detail"] or "") for entry in erased)

    # The applicant's next message starts a new conversation, with no trace of the old one.
    assert GREETING in texts(say(stack, erasing, "hello"))
    assert stored_texts(engine, rest_id(erasing)) == ["hello"]
    assert secret not in all_event_data(engine, rest_id(erasing))
    assert "data_erased" not in all_event_data(engine, rest_id(erasing))


def test_no_keeps_everything_and_a_safety_message_comes_first(servers: Servers):
    stack, engine = servers.stack, make_engine(servers.database_url)
    sender = f"keeping-{uuid.uuid4().hex[:8]}"
    say(stack, sender, "how long does vetting take?")
    assert QUESTION in texts(say(stack, sender, "delete my data"))
    assert KEPT in texts(say(stack, sender, "/deny"))
    kept = event_count(engine, rest_id(sender))
    assert stored_texts(engine, rest_id(sender))[0] == "how long does vetting take?"

    assert QUESTION in texts(say(stack, sender, "delete my data"))
    assert "Samaritans" in texts(say(stack, sender, "i can't cope any more"))
    later = texts(say(stack, sender, "/affirm"))
    assert ERASED not in later
    assert event_count(engine, rest_id(sender)) > kept
    assert json.dumps("how long does vetting take?") in all_event_data(engine, rest_id(sender))


def test_staff_can_erase_an_applicant_who_asked_another_way(servers: Servers):
    stack, engine = servers.stack, make_engine(servers.database_url)
    run = uuid.uuid4().hex[:8]
    asked, other = f"asked-by-email-{run}", f"other-{run}"
    for sender in (asked, other):
        say(stack, sender, "can I apply if I live abroad?")
        say(stack, sender, "can I talk to a person please")
    others = event_count(engine, rest_id(other)), desk_rows(engine, rest_id(other))

    erase = subprocess.run(
        [sys.executable, "-m", "privacy.erase", rest_id(asked)],
        cwd=ROOT,
        env={**quiet_env(), "RASA_URL": stack.url, "RASA_TOKEN": stack.token,
             "DESK_URL": stack.desk_url, "DESK_SERVICE_TOKEN": stack.desk_token},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert erase.returncode == 0, erase.stderr[-2000:]
    assert erase.stdout.startswith("erased: desk: 1 handoffs erased")
    assert event_count(engine, rest_id(asked)) == 0
    assert desk_rows(engine, rest_id(asked)) == ([], [])
    assert (event_count(engine, rest_id(other)), desk_rows(engine, rest_id(other))) == others


def test_staff_erasure_with_the_desk_and_rasa_unreachable_says_what_failed():
    gone = f"http://127.0.0.1:{free_port()}"
    erase = subprocess.run(
        [sys.executable, "-m", "privacy.erase", rest_id("asked-by-letter")],
        cwd=ROOT,
        env={**quiet_env(), "RASA_URL": gone, "RASA_TOKEN": "t", "DESK_URL": gone,
             "DESK_SERVICE_TOKEN": "not-the-desks"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert erase.returncode == 1 and erase.stdout == ""
    assert erase.stderr.startswith("erasure incomplete: desk: FAILED (ConnectionError)")
    assert "conversation: FAILED (ConnectionError)" in erase.stderr
    unset = {key: value for key, value in quiet_env().items() if key != "DESK_SERVICE_TOKEN"}
    erase = subprocess.run(
        [sys.executable, "-m", "privacy.erase", rest_id("asked-by-letter")],
        cwd=ROOT, env={**unset, "RASA_URL": gone, "RASA_TOKEN": "t"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "desk: FAILED (DESK_SERVICE_TOKEN is not set)" in erase.stderr
