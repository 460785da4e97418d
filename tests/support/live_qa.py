"""Live Q&A tests and benchmark: a stand-in for the Instagram channel's private-replies
endpoint, a desk process pointed at it, and live comments posted to the desk's intake.

The stand-in speaks the contract of `POST /webhooks/instagram/private_replies` (the desk's
service token as bearer; at most 100 replies a request; one result per reply) and records
every call. Like the real channel it sends at most one private reply per comment: a comment
it has answered before comes back "duplicate". It runs in its own thread with its own
event loop, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

import requests
from aiohttp import web

from desk.storage import migrate
from scripts.stack import Stack, free_port
from tests.support.threaded_server import ThreadedAiohttpServer

SERVICE_TOKEN = "live-qa-service-token"
PRIVATE_REPLIES = "/webhooks/instagram/private_replies"
MAX_REPLIES = 100


@dataclass
class ChannelStandIn(ThreadedAiohttpServer):
    token: str = SERVICE_TOKEN
    calls: List[List[Dict[str, str]]] = field(default_factory=list)
    refused: int = 0  # requests without the right token, or too big
    answered: set = field(default_factory=set)
    # Comment id -> the status to answer instead of "sent" (e.g. "expired").
    statuses: Dict[str, str] = field(default_factory=dict)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def replied_comments(self) -> List[str]:
        return [reply["comment_id"] for call in self.calls for reply in call]

    async def _private_replies(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused += 1
            return web.json_response({"error": "unauthorised"}, status=401)
        body = await request.json()
        replies = body.get("replies") if isinstance(body, dict) else None
        if not isinstance(replies, list) or not 0 < len(replies) <= MAX_REPLIES:
            self.refused += 1
            return web.json_response({"error": "1 to 100 replies"}, status=400)
        self.calls.append(replies)
        results = []
        for reply in replies:
            comment_id = reply["comment_id"]
            status = self.statuses.get(comment_id, "sent")
            if comment_id in self.answered:
                status = "duplicate"
            if status == "sent":
                self.answered.add(comment_id)
            results.append({"comment_id": comment_id, "status": status})
        return web.json_response({"results": results})

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PRIVATE_REPLIES, self._private_replies)
        return app


@contextmanager
def channel_stand_in() -> Iterator[ChannelStandIn]:
    channel = ChannelStandIn().start()
    try:
        yield channel
    finally:
        channel.stop()


@dataclass
class LiveDesk:
    """A running desk whose Rasa server is the channel stand-in."""

    stack: Stack
    database_url: str
    channel: ChannelStandIn

    @property
    def url(self) -> str:
        return self.stack.desk_url

    def post(self, token: str | None = SERVICE_TOKEN, **body: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(
            f"{self.url}/api/live-questions", json=body, headers=headers, timeout=30
        )


@contextmanager
def live_desk(tmp_path: Path, channel: ChannelStandIn) -> Iterator[LiveDesk]:
    database_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate(database_url)
    with open(tmp_path / "desk.log", "wb") as log:
        stack = Stack(
            rasa_port=channel.port,
            token="unused",
            desk_port=free_port(),
            desk_token=SERVICE_TOKEN,
            log=log,
            env={"DESK_DATABASE_URL": database_url},
        )
        with stack.running(timeout=120, desk_only=True):
            yield LiveDesk(stack, database_url, channel)


def comment(
    number: int,
    text: str,
    commenter: str,
    topic: str | None = None,
    abuse: bool = False,
    media_id: str = "live-1",
) -> Dict[str, Any]:
    """A live comment as the channel posts it to the desk."""
    return {
        "comment_id": f"1789{number:08d}",
        "media_id": media_id,
        "text": text,
        "commenter": commenter,
        "created_time": 1_796_000_000 + number,
        "topic": topic,
        "abuse": abuse,
    }
