"""The Rasa server's health and metrics, as an input channel (Rasa 3.6 has no other hook).

List `rasa_server.ops.OpsInput:` in credentials.yml (every Rasa server of ours does) to get,
beside the other channels:

GET /webhooks/ops/health/live   200 while the server's event loop runs
GET /webhooks/ops/health/ready  200 when the model is loaded and the tracker store and the
                                lock store answer; else 503 naming what failed
GET /webhooks/ops/metrics       Prometheus metrics

Messages handled and their latency are measured by app-level middleware, which the
channel registers when the server starts, on the webhooks that answer in the same HTTP
request (REST). Channels that acknowledge first and answer later (Instagram) measure
their own messages, from arrival to answer; socket.io (the local web chat) is not counted.

The channel's start-up listener is also where Rasa's structlog records lose message text
(rasa_server/log_redaction.py): the first moment after Rasa has configured structlog
(`rasa.__main__` does it after our entry point has run), once per server.

Readiness pings the tracker store itself, in a worker thread with a timeout, so it reads
the private `_tracker_store` of Rasa's wrappers (`AwaitableTrackerStore`, the fail-safe).
Rasa's public `retrieve` would run the store's blocking query on the server's event loop,
where a database that does not answer would stall liveness too. So the channel refuses to
start on any Rasa but the pinned one (rasa_server/versions.py; docs/upgrading.md).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from observability.checks import in_thread, sql_check
from observability.endpoints import Check, live, metrics, ready
from observability.metrics import MESSAGE_SECONDS, MESSAGES
from rasa_server.log_redaction import redact_rasa_logs
from rasa_server.versions import require

WEBHOOK = re.compile(r"^/webhooks/([A-Za-z0-9_.-]+)/webhook/?$")
# Channels that answer after acknowledging the webhook record their own messages.
ACK_FIRST_CHANNELS = frozenset({"instagram"})
SERVICE = "rasa"


class NotReady(RuntimeError):
    """A part of the Rasa server is not there yet (e.g. the model is still loading)."""


def _unwrapped(store: Any) -> Any:
    """The store itself, from inside Rasa's wrappers (AwaitableTrackerStore, FailSafe...)."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


async def _probe(store: Any) -> None:
    """Ask a store to answer: its own ping(), else a Redis PING or a SQL SELECT 1."""
    ping = getattr(store, "ping", None)
    if callable(ping):
        if inspect.iscoroutinefunction(ping):
            answer = await ping()
        else:
            answer = await asyncio.get_running_loop().run_in_executor(None, ping)
        if answer is False:
            raise NotReady(f"{type(store).__name__}.ping() answered False")
        return
    if getattr(store, "red", None) is not None:  # Rasa's Redis stores
        await in_thread(store.red.ping)()
        return
    engine = getattr(store, "engine", None)
    if engine is not None:
        await sql_check(engine)()
    # In-memory stores have nothing to reach.


def rasa_checks(app: Sanic) -> Dict[str, Check]:
    def agent() -> Any:
        found = getattr(app.ctx, "agent", None)
        if found is None or not found.is_ready():
            raise NotReady("no model loaded yet")
        return found

    async def model() -> None:
        agent()

    async def tracker_store() -> None:
        await _probe(_unwrapped(agent().tracker_store))

    async def lock_store() -> None:
        await _probe(agent().lock_store)

    return {"model": model, "tracker_store": tracker_store, "lock_store": lock_store}


def measure_messages(app: Sanic) -> None:
    """Time every POST to a synchronous channel's webhook, from request to response."""

    async def started(request: Request) -> None:
        match = WEBHOOK.match(request.path)
        if request.method == "POST" and match and match.group(1) not in ACK_FIRST_CHANNELS:
            request.ctx.careers_channel = match.group(1)
            request.ctx.careers_started = time.perf_counter()

    async def finished(request: Request, reply: BaseHTTPResponse) -> None:
        channel = getattr(request.ctx, "careers_channel", None)
        if channel is None:
            return
        outcome = "ok" if reply.status < 400 else "error"
        MESSAGES.labels(channel=channel, outcome=outcome).inc()
        MESSAGE_SECONDS.labels(channel=channel).observe(
            time.perf_counter() - request.ctx.careers_started
        )

    app.register_middleware(started, "request")
    app.register_middleware(finished, "response")


class OpsInput(InputChannel):
    """Health and metrics endpoints; it takes no messages."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        require("ops: the private _tracker_store of Rasa's tracker store wrappers read")
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = Blueprint("careers_ops", __name__)

        @ops.get("/health/live")
        async def health_live(request: Request) -> Any:
            return live(SERVICE)

        @ops.get("/health/ready")
        async def health_ready(request: Request) -> Any:
            return await ready(SERVICE, rasa_checks(request.app))

        @ops.get("/metrics")
        async def metrics_page(request: Request) -> Any:
            return await metrics()

        @ops.listener("before_server_start")
        async def start_measuring(app: Sanic, _: Any) -> None:
            measure_messages(app)
            redact_rasa_logs()

        return ops
