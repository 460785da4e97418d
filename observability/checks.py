"""Readiness checks for the dependencies the services share: SQL databases and Redis.

Each returns a coroutine function for observability.install; the blocking call runs in a
worker thread so a hung dependency never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observability.endpoints import Check


def in_thread(probe: Callable[[], Any]) -> Check:
    async def check() -> None:
        await asyncio.get_running_loop().run_in_executor(None, probe)

    return check


def sql_check(engine: Engine) -> Check:
    def probe() -> None:
        with engine.connect() as db:
            db.execute(sa.text("SELECT 1"))

    return in_thread(probe)


def redis_check(client: Any) -> Check:
    """`client` is a redis-py client (e.g. RedisLockStore.red)."""
    return in_thread(client.ping)
