"""Insights from a real conversation: real Rasa server, action server and desk.

Five REST applicants ask about vetting and something off-topic; one asks for a person, and a
recruiter claims and answers; another searches for vacancies. The roll-up then reads what the
real tracker store and desk wrote, so the contracts it relies on (the `input_channel` Rasa
stores, the hand-over action, the FAQ response key, the search's slots) are checked here.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from desk.insights import store
from desk.insights.rollup import Rollup
from desk.insights.settings import InsightsSettings
from desk.settings import OfficeHoursSettings
from desk.storage import make_engine
from scripts.stack import Stack
from tests.conftest import rest_id, say
from tests.desk_support import desk_cli

VETTING = "what is developed vetting and what does it involve?"
OFF_TOPIC = "what's the best pizza topping"


@pytest.fixture(scope="module")
def servers(desk_stack: Stack) -> Stack:
    return desk_stack


@pytest.fixture(scope="module")
def token(servers: Stack) -> str:
    database_url = servers.env["DESK_DATABASE_URL"]
    desk_cli(database_url, "create-user", "ines", stdin="a long enough password\n")
    return desk_cli(database_url, "create-token", "ines").stdout.strip()


@pytest.fixture(scope="module")
def rollup(servers: Stack) -> Iterator[Rollup]:
    url = servers.env["DESK_DATABASE_URL"]
    job = Rollup(InsightsSettings(url, url, url, OfficeHoursSettings(), open_days=28))
    yield job
    job.dispose()


def api(stack: Stack, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(
        method, f"{stack.desk_url}/api{path}", headers=headers, timeout=60, **kwargs
    )


def test_real_conversations_are_counted(servers: Stack, token: str, rollup: Rollup) -> None:
    senders = [f"insights-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    for sender in senders:
        say(servers, sender, VETTING)
        say(servers, sender, OFF_TOPIC)
    say(servers, senders[0], "can I talk to a recruiter")
    [handoff] = [
        found
        for found in api(servers, token, "GET", "/handoffs?status=waiting").json()["handoffs"]
        if found["sender_id"] == rest_id(senders[0])
    ]
    assert api(servers, token, "POST", f"/handoffs/{handoff['id']}/claim").ok
    sent = api(servers, token, "POST", f"/handoffs/{handoff['id']}/messages", json={"text": "Hi"})
    assert sent.status_code == 201
    say(servers, senders[1], "any tech jobs in manchester?")

    rollup.run(time.time())
    engine = make_engine(servers.env["DESK_DATABASE_URL"])
    with engine.connect() as db:
        keys = {
            sender: db.execute(
                sa.text("SELECT MIN(id) FROM events WHERE sender_id = :s"), {"s": rest_id(sender)}
            ).scalar()
            for sender in senders
        }
        rows = {
            row.key: row
            for row in db.execute(
                store.conversations.select().where(store.conversations.c.key.in_(keys.values()))
            )
        }
        topics = db.execute(
            sa.select(store.conversation_topics.c.topic).where(
                store.conversation_topics.c.key.in_(keys.values())
            )
        ).all()
        searches = db.execute(
            store.conversation_searches.select().where(
                store.conversation_searches.c.key == keys[senders[1]]
            )
        ).all()
        timed = db.execute(
            store.handoffs.select().where(store.handoffs.c.handoff_id == handoff["id"])
        ).one()
    engine.dispose()

    assert len(rows) == 5 and {row.channel for row in rows.values()} == {"rest"}
    assert [topic for (topic,) in topics].count("faq/process_vetting") == 5
    assert all(row.off_topic + row.not_understood == 1 for row in rows.values())
    assert rows[keys[senders[0]]].handed_off == 1
    assert sum(row.handed_off for row in rows.values()) == 1
    assert rows[keys[senders[1]]].messages == 3
    assert [(row.job_family, row.searches) for row in searches] == [("technology", 1)]
    assert timed.channel == "rest" and timed.reason == "asked for a person"
    assert timed.claim_s is not None and timed.reply_s is not None

    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    figures = api(servers, token, "GET", f"/insights?from={today}&to={today}&channel=rest").json()
    assert isinstance(figures["conversations"], int) and figures["conversations"] >= 5
