"""The recruiter desk's service API, as the action server calls it: over HTTP, with timeouts.

The desk owns the handoff queue, its database and its office hours (desk/service_routes.py);
the action server only asks. A desk that is down, slow or refusing raises DeskUnavailable,
so the action can tell the applicant another way to reach us.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any, Dict, List
from urllib.parse import quote

import aiohttp

from actions.settings import HandoffSettings

logger = logging.getLogger(__name__)

# Erasing is idempotent, so a failed attempt is tried once more after this pause.
ERASE_ATTEMPTS = 2
RETRY_PAUSE_S = 0.5


class DeskUnavailable(RuntimeError):
    """The desk did not do what was asked; the message says why, without applicant data."""


class DeskRefused(DeskUnavailable):
    """A 4xx: the request or the token is wrong, so trying again cannot help."""


@dataclass
class HandoffRequest:
    """The body of POST /api/handoffs."""

    conversation_id: str
    channel: str
    topic: str
    reason: str
    preview: str
    transcript: List[Dict[str, Any]]
    created_at: float


@dataclass
class QueuedHandoff:
    id: int
    # The end of "we aim to reply ...", from the desk's office hours.
    promised_reply: str


@dataclass
class ErasedRecords:
    handoffs: int
    rows: int


class DeskClient:
    def __init__(self, settings: HandoffSettings) -> None:
        self._url = settings.desk_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {settings.service_token}"}
        self._timeout = aiohttp.ClientTimeout(total=settings.desk_timeout_s)

    async def create_handoff(self, handoff: HandoffRequest) -> QueuedHandoff:
        """One attempt: creating is not idempotent, and the applicant is waiting."""
        body = await self._call("POST", "/api/handoffs", 201, json=asdict(handoff))
        try:
            return QueuedHandoff(id=int(body["id"]), promised_reply=str(body["promised_reply"]))
        except (KeyError, TypeError, ValueError) as error:
            raise DeskUnavailable("the desk's answer has no handoff id or reply time") from error

    async def erase_applicant(self, conversation_id: str) -> ErasedRecords:
        # Quoted whole: the namespace's ":" and any "/" in a channel's id stay in one segment.
        path = f"/api/applicants/{quote(conversation_id, safe='')}"
        for attempt in range(1, ERASE_ATTEMPTS + 1):
            try:
                body = await self._call("DELETE", path, 200)
                return ErasedRecords(int(body["handoffs_erased"]), int(body["rows_erased"]))
            except DeskRefused:
                raise
            except (DeskUnavailable, KeyError, TypeError, ValueError) as error:
                if attempt == ERASE_ATTEMPTS:
                    raise DeskUnavailable(f"erasure failed {attempt} times: {error}") from error
                logger.warning("desk erasure attempt %d failed: %s", attempt, error)
                await asyncio.sleep(RETRY_PAUSE_S)
        raise AssertionError("unreachable")

    async def _call(self, method: str, path: str, expected: int, **kwargs: Any) -> Any:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout, headers=self._headers) as session,
                session.request(method, self._url + path, **kwargs) as response,
            ):
                if response.status != expected:
                    if response.status == 401:
                        raise DeskRefused("the desk refused the service token (DESK_SERVICE_TOKEN)")
                    failure = DeskRefused if 400 <= response.status < 500 else DeskUnavailable
                    raise failure(f"the desk answered HTTP {response.status}")
                return await response.json()
        except asyncio.TimeoutError as error:
            waited = f"{self._timeout.total:g}"
            raise DeskUnavailable(f"the desk did not answer within {waited} s") from error
        except aiohttp.ClientError as error:
            # The error's kind only: its text may carry the URL, with the conversation id.
            raise DeskUnavailable(f"cannot reach the desk ({type(error).__name__})") from error
