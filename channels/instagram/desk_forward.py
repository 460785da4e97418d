"""Live comments forwarded to the desk's Live Q&A board (``POST {DESK_URL}/api/live-questions``).

The contract is the desk's: ``{"comment_id", "media_id", "text", "commenter",
"created_time", "topic", "abuse"}`` with ``Authorization: Bearer <DESK_SERVICE_TOKEN>``;
the desk answers 201 (new) or 200 (already had it). ``commenter`` is a pseudonym, the
first 16 hex characters of HMAC-SHA256(service token, commenter's IG id): the desk can
count distinct people without ever learning who they are.

Forwarding never holds up Meta's acknowledgement: each question is sent by a background
task, at most MAX_IN_FLIGHT at a time, each attempt with a timeout and a bounded number of
retries; with more than MAX_PENDING waiting, new ones are dropped and counted. A desk
that is down costs counted failures, nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from typing import Any, Dict, Set

import aiohttp

from channels.instagram.settings import InstagramSettings
from observability.metrics import DESK_FORWARDS

logger = logging.getLogger(__name__)

PATH = "/api/live-questions"
TIMEOUT_SECONDS = 5.0
# Three attempts in all, with these pauses between them.
BACKOFF_SECONDS = (0.5, 2.0)
MAX_IN_FLIGHT = 8
MAX_PENDING = 5000


def pseudonym(service_token: str, commenter_id: str) -> str:
    digest = hmac.new(service_token.encode("utf-8"), commenter_id.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:16]


class DeskForwarder:
    def __init__(self, settings: InstagramSettings) -> None:
        self._url = settings.desk_url + PATH
        self._token = settings.desk_service_token
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._tasks: Set[asyncio.Task] = set()

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def pseudonym(self, commenter_id: str) -> str:
        return pseudonym(self._token, commenter_id)

    def forward(self, question: Dict[str, Any]) -> None:
        """Queue one question for the desk; returns at once."""
        if not self.enabled:
            return
        if len(self._tasks) >= MAX_PENDING:
            DESK_FORWARDS.labels(outcome="failed").inc()
            logger.warning("instagram.desk_forward.dropped reason=too many pending")
            return
        task = asyncio.get_running_loop().create_task(self._deliver(question))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _deliver(self, question: Dict[str, Any]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with self._slots:
            for pause in (*BACKOFF_SECONDS, None):
                outcome = await self._post(question)
                if outcome is not None:
                    DESK_FORWARDS.labels(outcome=outcome).inc()
                    return
                if pause is None:
                    break
                DESK_FORWARDS.labels(outcome="retried").inc()
                await asyncio.sleep(pause)
        DESK_FORWARDS.labels(outcome="failed").inc()
        logger.error("instagram.desk_forward.failed attempts=%d", len(BACKOFF_SECONDS) + 1)

    async def _post(self, question: Dict[str, Any]) -> str | None:
        """ "stored" or "duplicate"; None when it should be tried again."""
        session = await self._open()
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with session.post(self._url, json=question, headers=headers) as response:
                await response.read()
                if response.status == 201:
                    return "stored"
                if response.status == 200:
                    return "duplicate"
                logger.warning("instagram.desk_forward.refused status=%d", response.status)
                # A client error will not change on retry; count it as failed at once.
                return "failed" if 400 <= response.status < 500 and response.status != 429 else None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("instagram.desk_forward.unreachable error=%s", type(error).__name__)
            return None

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS, connect=2.0)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session
