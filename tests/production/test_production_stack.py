"""The production set-up (endpoints.prod.yml, credentials.prod.yml) on the real local
PostgreSQL and Redis: JWT on the HTTP API, the action server secret, and an apology when the
action server is gone."""

from __future__ import annotations

import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import jwt
import pytest
import requests
import sqlalchemy as sa

from desk.rasa_api import DeliveryError, RasaApi, reply_event
from rasa_server.action_calls import APOLOGY
from scripts.production import CREDENTIALS, ENDPOINTS, ProductionServices
from scripts.stack import Stack, free_port
from tests.conftest import rest_id
from tests.production import services

postgres_database = pytest.fixture(scope="module", name="postgres_database")(
    services.fresh_postgres_database
)
redis_prefix = pytest.fixture(scope="module", name="redis_prefix")(services.unique_redis_prefix)

JWT_SECRET = secrets.token_urlsafe(32)
ACTION_SECRET = secrets.token_urlsafe(32)
REST_TOKEN = secrets.token_urlsafe(24)
VACANCIES = "any tech jobs in manchester?"


@pytest.fixture(scope="module")
def production(trained_model: Path, postgres_database: str, redis_prefix: str) -> Iterator[Stack]:
    setup = ProductionServices(db_name=postgres_database, redis_key_prefix=redis_prefix)
    with tempfile.TemporaryDirectory(prefix="careers-prod-") as tmp:
        log_path = Path(tmp) / "servers.log"
        with open(log_path, "wb") as log:
            stack = Stack(
                rasa_port=free_port(),
                action_port=free_port(),
                desk_port=free_port(),
                token="not-used-with-jwt",
                endpoints=ENDPOINTS,
                credentials=CREDENTIALS,
                model=trained_model,
                log=log,
                env={**setup.env(), "REST_CHANNEL_TOKEN": REST_TOKEN},
                jwt_secret=JWT_SECRET,
                action_secret=ACTION_SECRET,
            )
            with stack.running(timeout=400):
                stack.database_url = setup.database_url()  # type: ignore[attr-defined]
                yield stack


def say(stack: Stack, sender: str, text: str) -> List[Dict[str, Any]]:
    answer = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {REST_TOKEN}"},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def joined(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def applicant() -> str:
    return f"applicant-{uuid.uuid4().hex[:10]}"


def test_conversations_are_kept_in_postgresql(production: Stack) -> None:
    sender = applicant()
    assert joined(say(production, sender, "hi"))
    engine = sa.create_engine(production.database_url, future=True)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :sender"),
            {"sender": rest_id(sender)},
        ).scalar()
    engine.dispose()
    assert stored and stored > 0


def test_rasa_calls_the_action_server_with_its_secret(production: Stack) -> None:
    replies = joined(say(production, applicant(), VACANCIES))
    assert replies
    assert APOLOGY not in replies, "the action server refused Rasa's call"


def test_the_http_api_takes_only_a_valid_jwt(production: Stack) -> None:
    url = f"{production.url}/conversations/{applicant()}/tracker"
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "wrong-secret", "HS256")
    # sanic-jwt allows 180 s of clock skew after `exp`.
    expired = jwt.encode(
        {"user": {"username": "x", "role": "admin"}, "exp": int(time.time()) - 600},
        JWT_SECRET,
        "HS256",
    )
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": "not-used-with-jwt"}, timeout=30).status_code == 401
    for token in (forged, expired, "not.a.jwt"):
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(url, headers=headers, timeout=30).status_code == 401, token
    params, headers = production.api_auth()
    assert requests.get(url, params=params, headers=headers, timeout=30).status_code == 200


async def test_a_recruiter_reply_from_the_desk_reaches_the_conversation(production: Stack) -> None:
    applicant_id = applicant()
    say(production, applicant_id, "hi")
    sender = rest_id(applicant_id)
    desk = RasaApi(production.url, "", 30, jwt_secret=JWT_SECRET)
    tracker = await desk.tracker(sender)
    reply = reply_event(tracker, "Hello, I'm Sam from the careers team.", 1)
    await desk.append(sender, [reply], "rest")
    texts = [e.get("text") for e in (await desk.tracker(sender))["events"] if e["event"] == "bot"]
    assert texts[-1] == "Hello, I'm Sam from the careers team."

    with pytest.raises(DeliveryError, match="401"):
        await RasaApi(production.url, "", 30, jwt_secret="wrong").tracker(sender)


def test_without_the_action_server_the_applicant_gets_an_apology_and_the_conversation_goes_on(
    production: Stack,
) -> None:
    actions = production.processes[0]
    assert "actions.server" in str(actions.args)
    actions.terminate()
    actions.wait(timeout=30)
    production.processes.remove(actions)
    sender = applicant()

    assert APOLOGY in joined(say(production, sender, VACANCIES))
    assert APOLOGY not in joined(say(production, sender, "how old do you have to be to apply"))

    production.start_action_server()
    production.wait_until_ready(timeout=120)
    replies = joined(say(production, sender, VACANCIES))
    assert replies and APOLOGY not in replies
