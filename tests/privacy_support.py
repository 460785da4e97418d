"""Helpers for the privacy tests: databases to purge or erase, filled through the real stores.

Conversations are written by the project's tracker store class (Rasa's SQL tracker store
underneath), handoffs by the desk's storage module, so the rows are exactly what the servers
write. PostgreSQL databases come from tests/production/services.py (created and dropped).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from desk.storage import make_engine
from rasa_server.tracker_store import ErasingSQLTrackerStore
from scripts.stack import ROOT, Stack, quiet_env
from tests.ops_support import PgRedisStack
from tests.production.services import POSTGRES_URL, fresh_postgres_database

DAY = 86400.0
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Database:
    """One database holding both the tracker store's table and the desk's, as by default."""

    url: str
    tracker_store: Dict[str, Any]  # the endpoints.yml `tracker_store:` keys for it

    def endpoints_yaml(self, action_url: str = "") -> str:
        lines = []
        if action_url:
            lines += ["action_endpoint:", f'  url: "{action_url}"']
        lines += ["tracker_store:"]
        lines += [f"  {key}: {json.dumps(value)}" for key, value in self.tracker_store.items()]
        return "\n".join(lines) + "\n"

    def store(self) -> ErasingSQLTrackerStore:
        options = {k: v for k, v in self.tracker_store.items() if k != "type"}
        return ErasingSQLTrackerStore(domain=Domain.load(str(ROOT / "domain.yml")), **options)

    def engine(self) -> sa.engine.Engine:
        return make_engine(self.url)


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "tracker.db"
        yield Database(
            f"sqlite:///{path}",
            {
                "type": "rasa_server.tracker_store.ErasingSQLTrackerStore",
                "dialect": "sqlite",
                "db": str(path),
            },
        )
        return
    databases = fresh_postgres_database()
    name = next(databases)
    server = sa.engine.make_url(POSTGRES_URL)
    try:
        yield Database(
            server.set(database=name).render_as_string(hide_password=False),
            {
                "type": "rasa_server.tracker_store.ErasingSQLTrackerStore",
                "dialect": "postgresql",
                "url": server.host,
                "port": server.port or 5432,
                "db": name,
                "username": server.username,
            }
            | ({"password": server.password} if server.password else {}),
        )
    finally:
        next(databases, None)


def session(start: float, *texts: str) -> List[Event]:
    """One conversation session as Rasa stores it: start, then each message and its answer."""
    events: List[Event] = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    at = start
    for text in texts:
        at += 60
        events += [
            UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=at),
            ActionExecuted("utter_faq", timestamp=at + 1),
            BotUttered(f"answer to {text}", timestamp=at + 1),
            ActionExecuted("action_listen", timestamp=at + 1),
        ]
    return events


def save_conversation(store: ErasingSQLTrackerStore, sender: str, events: Sequence[Event]) -> None:
    tracker = DialogueStateTracker.from_events(sender, list(events), store.domain.slots)
    asyncio.run(store.save(tracker))


def stored_texts(engine: sa.engine.Engine, sender: str) -> List[str]:
    """The applicant texts stored for one conversation, oldest first."""
    query = sa.text(
        "SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"
    )
    with engine.connect() as db:
        return [json.loads(row[0]).get("text") for row in db.execute(query, {"sender": sender})]


def event_count(engine: sa.engine.Engine, sender: str) -> int:
    with engine.connect() as db:
        return int(
            db.execute(
                sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :sender"), {"sender": sender}
            ).scalar_one()
        )


def purge_cli(endpoints: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m privacy.purge` (the tracker store's half of `make purge`), as cron runs it."""
    return _run([sys.executable, "-m", "privacy.purge", "--endpoints", str(endpoints)], env)


def desk_purge_cli(desk_url: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m desk purge` (the desk's half of `make purge`), as cron runs it."""
    return _run([sys.executable, "-m", "desk", "purge"], {"DESK_DATABASE_URL": desk_url, **env})


def _run(command: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env={**quiet_env(), **env}, capture_output=True, text=True, timeout=120
    )


@dataclass
class Servers:
    """A running Rasa server and action server, and the database both their stores use."""

    stack: Stack
    database_url: str
    log: Path


def running_servers(request: pytest.FixtureRequest) -> Servers:
    """For a fixture with params=BACKENDS: the `stack` fixture (SQLite, as `make run`), or
    `pg_redis_stack` (PostgreSQL and Redis)."""
    if request.param == "sqlite":
        stack: Stack = request.getfixturevalue("stack")
        assert stack.log is not None
        return Servers(stack, stack.env["DESK_DATABASE_URL"], Path(stack.log.name))
    production: PgRedisStack = request.getfixturevalue("pg_redis_stack")
    return Servers(production.stack, production.database_url, production.log)
