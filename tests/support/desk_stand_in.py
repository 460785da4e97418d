"""A tiny stand-in for the desk's ``POST /api/live-questions``, for the channel's tests and
benchmark: the desk is another service to the channel, reached only over HTTP.

It checks the service token (401), answers 201 for a new comment id and 200 for one it
already has, records every call with its arrival time (time.perf_counter()), and can be
told to fail the next calls (to exercise the channel's retries). Its own thread and event
loop, like the Graph API stand-in; 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

from aiohttp import web

from tests.support.threaded_server import ThreadedAiohttpServer


@dataclass
class DeskCall:
    at: float
    headers: Dict[str, str]
    body: Any
    status: int


@dataclass
class DeskStandIn(ThreadedAiohttpServer):
    service_token: str
    calls: List[DeskCall] = field(default_factory=list)
    port: int = 0
    _fail_next: int = 0
    _questions: Dict[str, Any] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, count: int) -> None:
        with self._changed:
            self._fail_next = count

    def stored(self, comment_id: str) -> Any:
        """The question the desk stored for a comment id, or None."""
        with self._changed:
            return self._questions.get(comment_id)

    def calls_for(self, comment_id: str) -> List[DeskCall]:
        with self._changed:
            return [c for c in self.calls if (c.body or {}).get("comment_id") == comment_id]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
        return True

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/live-questions", self._live_question)
        return app

    async def _live_question(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        status = self._status(request, body)
        with self._changed:
            self.calls.append(DeskCall(time.perf_counter(), dict(request.headers), body, status))
            self._changed.notify_all()
        return web.json_response({"status": status}, status=status)

    def _status(self, request: web.Request, body: Any) -> int:
        if request.headers.get("Authorization") != f"Bearer {self.service_token}":
            return 401
        with self._changed:
            if self._fail_next > 0:
                self._fail_next -= 1
                return 503
            if not isinstance(body, dict) or not isinstance(body.get("comment_id"), str):
                return 400
            if body["comment_id"] in self._questions:
                return 200
            self._questions[body["comment_id"]] = body
            return 201
