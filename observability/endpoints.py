"""GET /health/live, /health/ready and /metrics, the same on every service.

Liveness answers 200 whenever the event loop runs (restart the process if it doesn't).
Readiness runs every check at once, each within CHECK_TIMEOUT_S, and answers 200 when all
pass or 503 naming those that failed (send no traffic until it passes). Neither says more
than the name and kind of a failure; details go to the service's log at WARNING.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Dict, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]
Refresh = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_S = 3.0
OK = "ok"


async def run_checks(checks: Mapping[str, Check]) -> Dict[str, str]:
    """Each check's outcome: "ok", or what failed (the exception's kind, or a timeout)."""

    async def one(name: str, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except asyncio.TimeoutError:
            logger.warning("health.check.timeout check=%s", name)
            return f"no answer within {CHECK_TIMEOUT_S:g}s"
        except Exception as error:
            logger.warning("health.check.failed check=%s error=%r", name, error)
            return f"failed: {type(error).__name__}"
        return OK

    outcomes = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return dict(zip(checks, outcomes, strict=True))


def live(service: str) -> HTTPResponse:
    return response.json({"service": service, "status": "alive"})


async def ready(service: str, checks: Mapping[str, Check]) -> HTTPResponse:
    outcomes = await run_checks(checks)
    failed = sorted(name for name, outcome in outcomes.items() if outcome != OK)
    body = {
        "service": service,
        "status": "not ready" if failed else "ready",
        "checks": outcomes,
        "failed": failed,
    }
    return response.json(body, status=503 if failed else 200)


async def metrics(refresh: Refresh | None = None) -> HTTPResponse:
    if refresh is not None:
        try:
            await asyncio.wait_for(refresh(), CHECK_TIMEOUT_S)
        except Exception as error:  # the counters are still worth scraping
            logger.warning("metrics.refresh.failed error=%r", error)
    return response.raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def add_routes(
    target: Sanic | Blueprint,
    service: str,
    checks: Mapping[str, Check],
    refresh: Refresh | None = None,
) -> None:
    """The three endpoints on an app or a blueprint (the Rasa server's ops channel)."""

    async def health_live(request: Request) -> HTTPResponse:
        return live(service)

    async def health_ready(request: Request) -> HTTPResponse:
        return await ready(service, checks)

    async def metrics_page(request: Request) -> HTTPResponse:
        return await metrics(refresh)

    prefix = f"observability_{service}".replace("-", "_")
    target.add_route(health_live, "/health/live", methods=["GET"], name=f"{prefix}_live")
    target.add_route(health_ready, "/health/ready", methods=["GET"], name=f"{prefix}_ready")
    target.add_route(metrics_page, "/metrics", methods=["GET"], name=f"{prefix}_metrics")


def install(
    app: Sanic,
    service: str,
    checks: Mapping[str, Check],
    refresh: Refresh | None = None,
) -> None:
    """GET /health/live, /health/ready (every check in `checks` must pass) and /metrics.

    `refresh`, if given, runs before each scrape (e.g. to read gauges from a database).
    """
    add_routes(app, service, dict(checks), refresh)
