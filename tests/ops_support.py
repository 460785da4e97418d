"""A Rasa server set up as in production: PostgreSQL tracker store and desk database, and a
Redis lock store on a redis-server of the test's own, which a test can stop and start again.

Used by the `pg_redis_stack` fixture (tests/conftest.py) for the erasure, log and readiness
tests; the two-replica set-up is tests/production/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import redis
import sqlalchemy as sa

from scripts.stack import Stack, action_endpoint_yaml, free_port
from tests.production.services import POSTGRES_URL, fresh_postgres_database

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class PrivateRedis:
    """redis-server on a free port, in memory only."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@dataclass
class PgRedisStack:
    stack: Stack
    redis: PrivateRedis
    database_url: str  # the tracker store's and the desk's database
    log: Path


@contextmanager
def pg_redis_stack(model: Path, directory: Path) -> Iterator[PgRedisStack]:
    databases = fresh_postgres_database()
    name = next(databases)
    server = sa.engine.make_url(POSTGRES_URL)
    database_url = server.set(database=name).render_as_string(hide_password=False)
    private_redis = PrivateRedis(directory)
    private_redis.start()
    action_port = free_port()
    tracker_store = {
        "type": "rasa_server.tracker_store.ErasingSQLTrackerStore",
        "dialect": "postgresql",
        "url": server.host,
        "port": server.port or 5432,
        "db": name,
        "username": server.username,
    } | ({"password": server.password} if server.password else {})
    lock_store = {
        "type": "rasa_server.lock_store.FifoRedisLockStore",
        "url": "127.0.0.1",
        "port": private_redis.port,
        "db": 0,
        "key_prefix": f"test{uuid.uuid4().hex[:8]}",
    }
    endpoints = directory / "endpoints.yml"
    endpoints.write_text(
        action_endpoint_yaml(action_port)
        + f"tracker_store: {json.dumps(tracker_store)}\n"  # JSON is YAML
        + f"lock_store: {json.dumps(lock_store)}\n",
        encoding="utf-8",
    )
    log_path = directory / "servers.log"
    with open(log_path, "wb") as log:
        stack = Stack(
            rasa_port=free_port(),
            action_port=action_port,
            token="pg-redis-test-token",
            desk_port=free_port(),
            endpoints=endpoints,
            model=model,
            log=log,
            # INFO for Rasa and its libraries: what is logged there must hold no message text.
            env={
                "DESK_DATABASE_URL": database_url,
                "LOG_LEVEL": "INFO",
                "LOG_LEVEL_LIBRARIES": "INFO",
            },
        )
        try:
            with stack.running(timeout=300):
                yield PgRedisStack(stack, private_redis, database_url, log_path)
        finally:
            private_redis.stop()
            next(databases, None)
