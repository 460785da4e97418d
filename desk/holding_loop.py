"""Holding messages: a background loop that stops between rounds when the server stops,
so shutdown never leaves a pending task behind or cuts a round off half-way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sanic import Sanic

from desk.service import Desk
from desk.web import DeskWeb

logger = logging.getLogger(__name__)
# How long shutdown waits for a holding-message round in progress.
HOLDING_STOP_WAIT_S = 10.0


async def holding_loop(desk: Desk, every_s: float, stopping: asyncio.Event) -> None:
    """Send due holding messages every `every_s` seconds until `stopping` is set."""
    while not stopping.is_set():
        try:
            await desk.send_holding_messages()
        except Exception:
            logger.exception("holding messages failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), every_s)


def register(app: Sanic, web: DeskWeb) -> None:
    """Run the loop while the server runs, a round every DESK_HOLDING_CHECK_SECONDS."""
    desk, every_s = web.desk, web.settings.holding_check_seconds

    async def start_holding(app: Sanic, loop: Any) -> None:
        app.ctx.holding_stopping = asyncio.Event()
        app.ctx.holding = loop.create_task(holding_loop(desk, every_s, app.ctx.holding_stopping))

    async def stop_holding(app: Sanic, loop: Any) -> None:
        task = getattr(app.ctx, "holding", None)
        if task is None:
            return
        app.ctx.holding_stopping.set()
        try:
            # On timeout wait_for cancels the round and waits until it has stopped.
            await asyncio.wait_for(task, HOLDING_STOP_WAIT_S)
        except asyncio.TimeoutError:
            logger.warning("holding messages: the last round was cut short by shutdown")

    app.register_listener(start_holding, "after_server_start")
    app.register_listener(stop_holding, "before_server_stop")
