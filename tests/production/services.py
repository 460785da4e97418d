"""The real local Redis and PostgreSQL for the production tests, each test with a key prefix
and database of its own so parallel runs never see each other's data.

Plain generator functions: a test module makes fixtures of the ones it uses with
``pytest.fixture(name=...)`` (tests/production/conftest.py belongs to the two-replica tests).
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import redis
import sqlalchemy as sa

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unique_redis_prefix() -> Iterator[str]:
    """A key prefix for one test alone; its keys are deleted afterwards."""
    prefix = f"test{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


def redis_connection() -> Iterator[redis.Redis]:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    yield client
    client.close()


def fresh_postgres_database() -> Iterator[str]:
    """A new PostgreSQL database (its name), dropped afterwards whatever still uses it."""
    name = f"careers_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
