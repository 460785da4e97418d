"""An aiohttp app served on a free loopback port from a thread of its own.

The base of the stand-ins for services outside the one under test (the Graph API, the desk
seen from the channel, the channel seen from the desk): a test starts one, points the real
server at its `port`, and reads what it recorded.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, TypeVar

from aiohttp import web

Server = TypeVar("Server", bound="ThreadedAiohttpServer")


class ThreadedAiohttpServer:
    """Subclasses (dataclasses with `port`, `_loop`, `_runner` and `_thread` fields) say
    which routes they answer in `make_app`."""

    port: int
    _loop: asyncio.AbstractEventLoop | None
    _runner: web.AppRunner | None
    _thread: threading.Thread | None

    def make_app(self) -> web.Application:
        raise NotImplementedError

    def start(self: Server) -> Server:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
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

    def __enter__(self: Server) -> Server:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.close()
