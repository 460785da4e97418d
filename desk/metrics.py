"""The recruiter desk's health and metrics: its database, and the queue of waiting handoffs.

The gauges are read from the database at each scrape, so every desk replica reports the
same queue (take max(), not sum(), across replicas).
"""

from __future__ import annotations

import asyncio
from typing import Callable

import sqlalchemy as sa
from prometheus_client import Gauge
from sanic import Sanic
from sqlalchemy.engine import Engine

from desk.storage import WAITING, handoffs
from observability.checks import sql_check
from observability.endpoints import Refresh, install

HANDOFFS_WAITING = Gauge(
    "careers_handoffs_waiting", "Handoffs waiting for a recruiter to claim them."
)
OLDEST_WAITING_SECONDS = Gauge(
    "careers_handoff_oldest_waiting_seconds",
    "How long the oldest waiting handoff has waited, in seconds (0 when none is waiting).",
)


def queue_gauges(engine: Engine, clock: Callable[[], float]) -> Refresh:
    def read() -> None:
        query = sa.select(sa.func.count(), sa.func.min(handoffs.c.created_at)).where(
            handoffs.c.status == WAITING
        )
        with engine.connect() as db:
            waiting, oldest = db.execute(query).one()
        HANDOFFS_WAITING.set(int(waiting or 0))
        OLDEST_WAITING_SECONDS.set(max(0.0, clock() - oldest) if oldest is not None else 0.0)

    async def refresh() -> None:
        await asyncio.get_running_loop().run_in_executor(None, read)

    return refresh


def instrument(app: Sanic, engine: Engine, clock: Callable[[], float]) -> None:
    """GET /health/live, /health/ready (the database answers) and /metrics on the desk."""
    install(app, "desk", {"database": sql_check(engine)}, refresh=queue_gauges(engine, clock))
