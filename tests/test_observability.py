"""Health and metrics on every service, against real processes and real dependencies.

Rasa server (ops channel): live, ready (model, tracker store, lock store), metrics of the
messages it handles; not ready while its Redis lock store is down, ready again after.
Action server: the same endpoints, not ready when its actions are missing, and an error
reply that sends no conversation back. Desk: not ready while its database is unreachable;
the waiting handoffs and the age of the oldest as gauges.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
import sqlalchemy as sa

from actions.server import SECRET_HEADER
from desk.storage import NewHandoff, Store, migrate
from scripts.stack import ROOT, Stack, free_port, quiet_env
from tests.conftest import say
from tests.desk_support import TOKEN, StandInRasa
from tests.ops_support import PgRedisStack
from tests.production.services import POSTGRES_URL, fresh_postgres_database


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=30)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if found == wanted:
                return float(match.group(3))
    return 0.0


def eventually(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


# Rasa server


def test_rasa_server_health_and_message_metrics(stack: Stack):
    ops = f"{stack.url}/webhooks/ops"
    assert get(f"{ops}/health/live").json() == {"service": "rasa", "status": "alive"}
    ready = get(f"{ops}/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"model": "ok", "tracker_store": "ok", "lock_store": "ok"}

    before = get(f"{ops}/metrics").text
    say(stack, f"metrics-{uuid.uuid4().hex[:8]}", "how long does vetting take?")
    after = get(f"{ops}/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    for name, labels in (
        ("careers_messages_total", {"channel": "rest", "outcome": "ok"}),
        ("careers_message_seconds_count", {"channel": "rest"}),
    ):
        assert metric(after.text, name, **labels) == metric(before, name, **labels) + 1, name
    # Health checks and scrapes are not applicant messages.
    assert metric(after.text, "careers_messages_total", channel="ops", outcome="ok") == 0


def test_rasa_server_is_not_ready_while_its_redis_is_down(pg_redis_stack: PgRedisStack):
    ops = f"{pg_redis_stack.stack.url}/webhooks/ops"
    assert get(f"{ops}/health/ready").status_code == 200
    pg_redis_stack.redis.stop()
    try:
        down = get(f"{ops}/health/ready")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "not ready" and body["failed"] == ["lock_store"]
        assert body["checks"]["model"] == "ok" and body["checks"]["tracker_store"] == "ok"
        assert body["checks"]["lock_store"] != "ok"
        assert get(f"{ops}/health/live").status_code == 200
    finally:
        pg_redis_stack.redis.start()
    assert eventually(lambda: get(f"{ops}/health/ready").status_code == 200)


# Action server


def test_action_server_health_metrics_and_error_replies(stack: Stack):
    actions = f"http://localhost:{stack.action_port}"
    assert get(f"{actions}/health/live").json() == {"service": "actions", "status": "alive"}
    ready = get(f"{actions}/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"actions": "ok"}

    before = get(f"{actions}/metrics").text
    say(stack, f"fallback-{uuid.uuid4().hex[:8]}", "what's the weather like tomorrow")
    after = get(f"{actions}/metrics").text
    assert metric(after, "careers_fallbacks_total", reply="off_topic") == (
        metric(before, "careers_fallbacks_total", reply="off_topic") + 1
    )

    secret = f"Marmalade{uuid.uuid4().hex[:6]}"
    # An event that is not an object makes action_answer_offer raise inside the action.
    events = [{"event": "user", "text": f"my name is {secret}"}, "broken"]
    broken_call = {
        "next_action": "action_answer_offer",
        "tracker": {"sender_id": secret, "events": events},
    }
    failed = requests.post(
        f"{actions}/webhook",
        json=broken_call,
        headers={SECRET_HEADER: stack.action_secret},  # as the Rasa server calls it
        timeout=30,
    )
    assert failed.status_code == 500
    assert secret not in failed.text
    assert failed.json()["error"].startswith("the action failed (")


def test_action_server_is_not_ready_without_its_actions(tmp_path: Path):
    port = free_port()
    with open(tmp_path / "actions.log", "wb") as log:
        # A package with no actions in it: the domain's actions are all missing.
        server = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(port),
             "--actions", "observability"],
            cwd=ROOT, env={**quiet_env(), "ACTION_SERVER_SECRET": "unused"},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://localhost:{port}"
            assert eventually(lambda: _answers(f"{url}/health/live"), timeout=90)
            ready = get(f"{url}/health/ready")
            assert ready.status_code == 503
            assert ready.json()["failed"] == ["actions"]
            assert ready.json()["checks"]["actions"] == "failed: MissingActions"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


# Desk


@pytest.fixture
def desk_database() -> Iterator[str]:
    databases = fresh_postgres_database()
    name = next(databases)
    yield name
    next(databases, None)


def _database_url(name: str) -> str:
    return sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(False)


def _rename(old: str, new: str) -> None:
    """Rename a database, closing whatever is connected to it (the desk's pool) first."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        for _ in range(20):
            with admin.connect() as db:
                db.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": old},
                )
                try:
                    db.execute(sa.text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
                    return
                except sa.exc.OperationalError:
                    time.sleep(0.2)  # someone reconnected in between
        raise AssertionError(f"could not rename {old}")
    finally:
        admin.dispose()


def test_desk_health_and_queue_gauges(desk_database: str, rasa: StandInRasa, tmp_path: Path):
    url = _database_url(desk_database)
    migrate(url)
    store = Store(url)
    now = time.time()
    for age in (600.0, 60.0):
        store.create_handoff(
            NewHandoff(f"applicant-{age}", "instagram", "general", "asked for a person", "",
                       [], now - age)
        )  # fmt: skip
    claimed = store.create_handoff(
        NewHandoff("applicant-claimed", "instagram", "general", "asked", "", [], now - 9000)
    )
    store.claim(claimed, "alice", now)
    with open(tmp_path / "desk.log", "wb") as log:
        desk = Stack(rasa_port=rasa.server_address[1], token=TOKEN, desk_port=free_port(),
                     log=log, env={"DESK_DATABASE_URL": url})  # fmt: skip
        desk.start_desk()
        try:
            _check_desk(desk.desk_url, desk_database)
        finally:
            desk.stop()


def _check_desk(base: str, database: str) -> None:
    assert get(f"{base}/health/live").json() == {"service": "desk", "status": "alive"}
    ready = get(f"{base}/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
    scraped = get(f"{base}/metrics").text
    assert metric(scraped, "careers_handoffs_waiting") == 2
    assert 600 <= metric(scraped, "careers_handoff_oldest_waiting_seconds") < 600 + 300

    hidden = f"{database}_away"
    _rename(database, hidden)
    try:
        down = get(f"{base}/health/ready")
        assert down.status_code == 503
        assert down.json()["failed"] == ["database"]
        assert get(f"{base}/health/live").status_code == 200
        assert get(f"{base}/metrics").status_code == 200  # counters still scraped
    finally:
        _rename(hidden, database)
    assert eventually(lambda: get(f"{base}/health/ready").status_code == 200)
