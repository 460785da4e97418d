"""Telling recruiters a handoff is waiting: a Teams or Slack incoming webhook.

The desk sends it because the desk knows its own address (DESK_PUBLIC_URL) and is where the
handoff is created. Both kinds of webhook take {"text": ...}; the text names the handoff, its
topic and channel, never what the applicant wrote.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Set

import aiohttp

logger = logging.getLogger(__name__)


class HandoffNotifier:
    """Sends in the background, so creating a handoff never waits on Teams or Slack."""

    def __init__(self, webhook_url: str, desk_url: str, timeout_s: float) -> None:
        self._webhook_url = webhook_url
        self._desk_url = desk_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._sending: Set[asyncio.Task] = set()

    def text(self, handoff_id: int, topic: str, channel: str) -> str:
        return (
            f"A conversation is waiting in the recruiter desk (#{handoff_id}, topic "
            f"{topic}, channel {channel}): {self._desk_url}/handoffs/{handoff_id}"
        )

    def handoff_created(self, handoff_id: int, topic: str, channel: str) -> None:
        if not self._webhook_url:
            return
        task = asyncio.get_running_loop().create_task(
            self._send(self.text(handoff_id, topic, channel))
        )
        self._sending.add(task)  # a reference until done, so the task is not collected
        task.add_done_callback(self._sending.discard)

    async def _send(self, text: str) -> None:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(self._webhook_url, json={"text": text}) as response,
            ):
                if response.status >= 300:
                    logger.warning("handoff webhook answered HTTP %s", response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # The handoff is queued either way; the desk shows it.
            logger.warning("handoff webhook failed: %s", type(error).__name__)
