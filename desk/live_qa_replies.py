"""Sending a Live Q&A group's answer privately, through the Instagram channel.

The desk never talks to the Graph API: it asks the Rasa server's Instagram channel
(`POST {RASA_URL}/webhooks/instagram/private_replies`, the service token as bearer) to send
the topic's answer as one private reply per comment. The channel applies Meta's rules
(one per comment, 7 days, live comments only while the broadcast runs, the hourly cap, the
kill switch) and says what became of each. At most 100 replies go in one request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Dict, List, Sequence, Tuple

import aiohttp

from desk.live_qa_store import REPLY_STATUSES

logger = logging.getLogger(__name__)
PATH = "/webhooks/instagram/private_replies"
BATCH = 100
ERROR = "error"


class ChannelReplies:
    """The channel's private-replies endpoint."""

    def __init__(self, rasa_url: str, service_token: str, timeout_s: float) -> None:
        self.url = rasa_url.rstrip("/") + PATH
        self.token = service_token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    @property
    def configured(self) -> bool:
        return bool(self.token)

    async def send(self, topic: str, comment_ids: Sequence[str]) -> Dict[str, str]:
        """Each comment id's outcome; "error" for any the channel did not answer for."""
        outcomes: Dict[str, str] = {}
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for start in range(0, len(comment_ids), BATCH):
                batch = list(comment_ids[start : start + BATCH])
                outcomes.update(await self._batch(session, topic, batch))
        return outcomes

    async def _batch(
        self, session: aiohttp.ClientSession, topic: str, batch: List[str]
    ) -> Dict[str, str]:
        body = {"replies": [{"comment_id": comment_id, "topic": topic} for comment_id in batch]}
        headers = {"Authorization": f"Bearer {self.token}"}
        outcomes = dict.fromkeys(batch, ERROR)
        try:
            async with session.post(self.url, json=body, headers=headers) as reply:
                if reply.status != 200:
                    logger.warning("private replies: the channel answered HTTP %s", reply.status)
                    return outcomes
                answer = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("private replies: the channel failed (%s)", type(error).__name__)
            return outcomes
        for comment_id, status in _results(answer):
            if comment_id in outcomes:
                outcomes[comment_id] = status
        return outcomes


def _results(answer: object) -> List[Tuple[str, str]]:
    results = answer.get("results") if isinstance(answer, dict) else None
    found = []
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict):
            continue
        comment_id, status = item.get("comment_id"), item.get("status")
        if isinstance(comment_id, str) and isinstance(status, str):
            found.append((comment_id, status if status in REPLY_STATUSES else ERROR))
    return found
