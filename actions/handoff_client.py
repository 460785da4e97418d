"""Creates handoffs in the recruiter desk's database and tells recruiters one is waiting.

A direct insert through the desk's storage module, not a call to the desk: a handoff is
queued even while the desk is restarting, and the queue is the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Dict

import aiohttp

from actions.settings import HandoffSettings
from desk.storage import NewHandoff, Store, migrate

logger = logging.getLogger(__name__)

# Storing a handoff is one insert; a database slower than this is treated as down, so the
# applicant is told how else to reach us well inside Rasa's action timeout (ACTION_TIMEOUT_S).
STORE_TIMEOUT_S = 10.0

_stores: Dict[str, Store] = {}
_lock = threading.Lock()


class HandoffError(RuntimeError):
    """The handoff could not be stored; the applicant must be told another way to reach us."""


def _store(url: str) -> Store:
    with _lock:
        if url not in _stores:
            migrate(url)
            _stores[url] = Store(url)
        return _stores[url]


class HandoffClient:
    def __init__(self, settings: HandoffSettings) -> None:
        self._settings = settings

    async def create(self, handoff: NewHandoff) -> int:
        loop = asyncio.get_running_loop()
        try:
            handoff_id = await asyncio.wait_for(
                loop.run_in_executor(None, self._insert, handoff), STORE_TIMEOUT_S
            )
        except asyncio.TimeoutError as error:
            raise HandoffError(f"the desk database took over {STORE_TIMEOUT_S:g} s") from error
        except Exception as error:
            raise HandoffError(f"cannot store the handoff: {error}") from error
        await self._notify(handoff_id, handoff)
        return handoff_id

    def _insert(self, handoff: NewHandoff) -> int:
        return _store(self._settings.database_url).create_handoff(handoff)

    async def _notify(self, handoff_id: int, handoff: NewHandoff) -> None:
        """Teams and Slack incoming webhooks both take {"text": ...}; no applicant text."""
        url = self._settings.notify_webhook_url
        if not url:
            return
        text = (
            f"A conversation is waiting in the recruiter desk (#{handoff_id}, topic "
            f"{handoff.topic}, channel {handoff.channel}): "
            f"{self._settings.desk_url}/handoffs/{handoff_id}"
        )
        timeout = aiohttp.ClientTimeout(total=self._settings.notify_timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, json={"text": text}) as response,
            ):
                if response.status >= 300:
                    logger.warning("handoff webhook answered HTTP %s", response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # The handoff is queued either way; the desk shows it.
            logger.warning("handoff webhook failed: %r", error)
