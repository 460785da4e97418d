"""The desk's service API (desk/service_routes.py) on a real desk process: the calls the action
server makes to queue a handoff and to erase an applicant's records."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa

from desk.storage import audit
from scripts.stack import Stack, free_port
from tests.desk_support import Desk, running_desk, stand_in_rasa

LONDON = ZoneInfo("Europe/London")
WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON).timestamp()
SATURDAY_10AM = datetime(2026, 11, 28, 10, 0, tzinfo=LONDON).timestamp()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One desk process for the module (each test's handoffs have their own conversation ids)."""
    with stand_in_rasa() as rasa, running_desk(tmp_path_factory.mktemp("service"), rasa) as found:
        yield found


def waiting(desk: Desk) -> int:
    return len(desk.store.list_handoffs("waiting"))


def handoff_body(**changes: Any) -> Dict[str, Any]:
    body: Dict[str, Any] = {
        "conversation_id": "instagram:1789",
        "channel": "instagram",
        "topic": "eligibility_residency",
        "reason": "asked for a person",
        "preview": "I lived in Dubai for four years",
        "transcript": [
            {"who": "applicant", "text": "I lived in Dubai for four years", "at": 1.0},
            {"who": "assistant", "text": "It depends...", "at": None},
        ],
        "created_at": WEDNESDAY_10AM,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def service(desk: Desk, token: str | None = None) -> Dict[str, str]:
    return {"Authorization": f"Bearer {desk.stack.desk_token if token is None else token}"}


def post(desk: Desk, body: Any, headers: Dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        f"{desk.url}/api/handoffs",
        json=body,
        headers=service(desk) if headers is None else headers,
        timeout=30,
    )


def delete(desk: Desk, conversation_id: str, token: str | None = None) -> requests.Response:
    return requests.delete(
        f"{desk.url}/api/applicants/{quote(conversation_id, safe='')}",
        headers=service(desk, token),
        timeout=30,
    )


def test_every_service_route_needs_the_service_token(desk: Desk):
    before = waiting(desk)
    recruiters_token = desk.add_recruiter("alice")
    for headers in ({}, service(desk, "wrong"), service(desk, recruiters_token)):
        assert post(desk, handoff_body(), headers).status_code == 401
    assert delete(desk, "instagram:1789", "wrong").status_code == 401
    assert delete(desk, "instagram:1789", recruiters_token).status_code == 401
    refused = requests.delete(f"{desk.url}/api/applicants/rest:x", timeout=30)
    assert refused.status_code == 401
    assert "DESK_SERVICE_TOKEN" in refused.json()["error"]
    assert waiting(desk) == before


def test_a_handoff_is_queued_with_the_reply_time_from_the_desks_office_hours(desk: Desk):
    created = post(desk, handoff_body())
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["promised_reply"] == "within about 30 minutes"
    assert created.headers["Location"] == f"/api/handoffs/{answer['id']}"
    stored = desk.store.get_handoff(answer["id"])
    assert stored is not None
    assert (stored["sender_id"], stored["channel"], stored["status"]) == (
        "instagram:1789",
        "instagram",
        "waiting",
    )
    assert stored["created_at"] == WEDNESDAY_10AM
    assert stored["transcript"] == handoff_body()["transcript"]

    weekend = post(desk, handoff_body(created_at=SATURDAY_10AM)).json()
    assert weekend["promised_reply"].startswith("on the next working day, Monday 30 November")


def test_created_at_defaults_to_the_desks_clock(desk: Desk):
    before = time.time()
    created = post(desk, handoff_body(created_at=..., preview=..., transcript=...))
    assert created.status_code == 201, created.text
    stored = desk.store.get_handoff(created.json()["id"])
    assert stored is not None and before - 1 <= stored["created_at"] <= time.time() + 1
    assert (stored["preview"], stored["transcript"]) == ("", [])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([1, 2], "JSON object"),
        (handoff_body(conversation_id=...), "`conversation_id` is required"),
        (handoff_body(conversation_id="   "), "`conversation_id` is required"),
        (handoff_body(channel=7), "`channel` must be a string"),
        (handoff_body(topic="t" * 101), "`topic` can be at most 100 characters"),
        (handoff_body(transcript="hello"), "`transcript` must be a list"),
        (handoff_body(transcript=[{"who": "hacker", "text": "x"}]), "`transcript[0]` needs"),
        (handoff_body(transcript=[{"who": "applicant", "text": 3}]), "`transcript[0]`.text"),
        (handoff_body(created_at=time.time() + 86400), "not in the future"),
        (handoff_body(created_at="yesterday"), "`created_at`"),
        (handoff_body(status="closed"), "Unknown fields: status"),
    ],
)
def test_bad_input_gets_a_400_that_says_what_is_wrong(desk: Desk, body: Any, says: str):
    before = waiting(desk)
    refused = post(desk, body)
    assert refused.status_code == 400, refused.text
    assert says in refused.json()["error"]
    assert waiting(desk) == before


def test_a_body_that_is_not_json_or_too_big_is_refused(desk: Desk):
    before = waiting(desk)
    not_json = requests.post(
        f"{desk.url}/api/handoffs",
        data="conversation_id=rest:x",
        headers={**service(desk), "Content-Type": "application/json"},
        timeout=30,
    )
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["error"]
    huge = handoff_body(transcript=[{"who": "applicant", "text": "x" * 4000, "at": 1.0}] * 300)
    assert post(desk, huge).status_code == 413
    too_long = handoff_body(transcript=[{"who": "applicant", "text": "x", "at": 1.0}] * 201)
    assert post(desk, too_long).status_code == 400
    assert waiting(desk) == before


def test_erasing_an_applicant_removes_their_records_only_and_can_be_repeated(desk: Desk):
    mine = [
        desk.add_handoff("instagram:17/89", "first question"),
        desk.add_handoff("instagram:17/89", "again"),
    ]
    theirs = desk.add_handoff("rest:someone-else", "their question")
    desk.store.add_message(mine[0], "alice", "note", "a note about them", time.time())

    erased = delete(desk, "instagram:17/89")
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"handoffs_erased": 2, "rows_erased": 1}
    assert [desk.store.get_handoff(handoff_id) for handoff_id in mine] == [None, None]
    assert desk.store.get_handoff(theirs) is not None
    with desk.store.engine.connect() as db:
        logged = db.execute(
            sa.select(audit.c.handoff_id, audit.c.detail).where(audit.c.action == "erased")
        ).all()
    assert sorted(handoff_id for handoff_id, _ in logged) == sorted(mine)
    assert all("17/89" not in detail for _, detail in logged)

    again = delete(desk, "instagram:17/89")
    assert again.status_code == 200
    assert again.json() == {"handoffs_erased": 0, "rows_erased": 0}
    assert delete(desk, "webchat:never-handed-over").json()["handoffs_erased"] == 0


def test_an_id_no_conversation_can_have_is_a_400(desk: Desk):
    assert delete(desk, "x" * 256).status_code == 400
    assert delete(desk, " ").status_code == 400


def test_a_desk_with_no_service_token_refuses_every_service_call(tmp_path: Path):
    """A forgotten DESK_SERVICE_TOKEN fails closed: even an empty bearer is refused."""
    database_url = f"sqlite:///{tmp_path / 'desk.db'}"
    with stand_in_rasa() as rasa, open(tmp_path / "desk.log", "wb") as log:
        stack = Stack(
            rasa_port=rasa.server_address[1],
            desk_port=free_port(),
            desk_token="",
            log=log,
            env={"DESK_DATABASE_URL": database_url},
        )
        with stack.running(timeout=60, desk_only=True):
            for token in ("", "anything"):
                headers = {"Authorization": f"Bearer {token}"}
                created = requests.post(
                    f"{stack.desk_url}/api/handoffs",
                    json=handoff_body(),
                    headers=headers,
                    timeout=30,
                )
                erased = requests.delete(
                    f"{stack.desk_url}/api/applicants/rest:x", headers=headers, timeout=30
                )
                assert (created.status_code, erased.status_code) == (401, 401)
