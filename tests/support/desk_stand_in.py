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


@dataclass
class DeskCall:
    at: float
    headers: Dict[str, str]
    body: Any
    status: int


@dataclass
class DeskStandIn:
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

    def start(self) -> DeskStandIn:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("desk stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> DeskStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_post("/api/live-questions", self._live_question)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.close()

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
