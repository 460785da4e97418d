"""What the channel does with a comment, after the webhook has been acknowledged, and with
the desk's request to answer a group of live questions (a DM asked "for the live" among
them: channels/instagram/live_dm_questions.py).

A comment is understood (channels/instagram/comment_answers.py); a live one is remembered
(media, time, kind: what the reply rules need later) and forwarded to the desk's Live Q&A
board; an answerable question or a safety concern gets its one private reply
(channels/instagram/private_replies.py). Never a public reply.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Mapping

from channels.instagram.comment_answers import (
    ParserThread,
    Understanding,
    is_answerable_topic,
    private_reply_text,
    understand,
)
from channels.instagram.comments import CommentEvent
from channels.instagram.dedup import DedupUnavailable
from channels.instagram.desk_forward import DeskForwarder
from channels.instagram.graph_api import GraphApiClient
from channels.instagram.live_dm_questions import LiveDmQuestions, is_dm_question_id
from channels.instagram.private_replies import CommentRecord, PrivateReplies, ReplyStatus
from channels.instagram.reply_store import ReplyStore
from channels.instagram.settings import InstagramSettings

logger = logging.getLogger(__name__)

MAX_DESK_REPLIES = 100
MAX_COMMENT_CHARS = 2200  # Instagram's limit for a comment
MAX_ID_CHARS = 64
# Private replies the desk's request sends at the same time.
DESK_REPLY_CONCURRENCY = 4


class BadRequest(ValueError):
    """The desk's request is malformed; the message says what to fix."""


class CommentHandler:
    def __init__(
        self, settings: InstagramSettings, client: GraphApiClient, store: ReplyStore
    ) -> None:
        self.replies = PrivateReplies(settings, client, store)
        self.desk = DeskForwarder(settings)
        self.parser = ParserThread()
        # DMs asked "for the live" share the forwarder, the parser and the store.
        self.live_dms = LiveDmQuestions(settings, client, store, self.desk, self.parser)

    async def handle(self, comment: CommentEvent, agent: Any) -> None:
        """Understand one comment, pass a live one to the desk, and answer it privately."""
        responses = _responses(agent)
        understanding = await understand(agent, comment.text, responses, self.parser)
        record = CommentRecord(
            comment_id=comment.comment_id,
            account_id=comment.account_id,
            media_id=comment.media_id,
            created_time=comment.created_time,
            live=comment.live,
        )
        if comment.live:
            await self._to_desk(comment, record, understanding)
        text = private_reply_text(responses, understanding)
        if text is None:
            logger.debug("instagram.comment.no_reply intent=%s", understanding.intent)
            return
        await self.replies.send(record, text)

    async def close(self, timeout: float) -> None:
        """At shutdown: finish forwarding what can be, then let go of the connections."""
        await self.desk.drain(timeout)
        await self.desk.close()
        self.parser.close()

    async def answer_for_desk(self, agent: Any, body: Any) -> List[Dict[str, str]]:
        """Send each listed comment its topic's answer, by the same rules; one status each."""
        responses = _responses(agent)
        wanted = parse_desk_request(body, responses)
        slots = asyncio.Semaphore(DESK_REPLY_CONCURRENCY)

        async def one(comment_id: str, topic: str) -> Dict[str, str]:
            async with slots:
                status = await self._answer_one(comment_id, topic, responses)
            return {"comment_id": comment_id, "status": status.value}

        return list(await asyncio.gather(*(one(c, t) for c, t in wanted)))

    async def _answer_one(
        self, comment_id: str, topic: str, responses: Mapping[str, Any]
    ) -> ReplyStatus:
        if is_dm_question_id(comment_id):
            return await self.live_dms.answer(comment_id, topic, responses)
        try:
            record = await self.replies.recall(comment_id)
        except DedupUnavailable:
            return ReplyStatus.ERROR
        if record is None:
            # Never forwarded by this channel (or over 8 days ago): nothing to reply to.
            return ReplyStatus.ERROR
        text = private_reply_text(responses, Understanding(intent="faq", topic=topic))
        if text is None:
            return ReplyStatus.ERROR
        return await self.replies.send(record, text)

    async def _to_desk(
        self, comment: CommentEvent, record: CommentRecord, understanding: Understanding
    ) -> None:
        try:
            await self.replies.remember(record)
        except DedupUnavailable:
            logger.error("instagram.comment.not_remembered reason=store unavailable")
        if not comment.text.strip():
            return
        self.desk.forward(
            {
                "comment_id": comment.comment_id,
                "media_id": comment.media_id,
                "text": comment.text[:MAX_COMMENT_CHARS],
                "commenter": self.desk.pseudonym(comment.commenter_id),
                "created_time": comment.created_time,
                "topic": understanding.topic,
                "abuse": understanding.abuse,
            }
        )


def parse_desk_request(body: Any, responses: Mapping[str, Any]) -> List[tuple]:
    """(comment_id, topic) pairs from ``{"replies": [{"comment_id", "topic"}]}``."""
    items = body.get("replies") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise BadRequest("'replies' must be a non-empty list")
    if len(items) > MAX_DESK_REPLIES:
        raise BadRequest(f"at most {MAX_DESK_REPLIES} replies per request")
    wanted = []
    for index, item in enumerate(items):
        comment_id = item.get("comment_id") if isinstance(item, dict) else None
        topic = item.get("topic") if isinstance(item, dict) else None
        if not isinstance(comment_id, str) or not 0 < len(comment_id) <= MAX_ID_CHARS:
            raise BadRequest(f"replies[{index}].comment_id must be a comment id")
        if not is_answerable_topic(topic, responses):
            raise BadRequest(f"replies[{index}].topic must be an FAQ topic with an answer")
        wanted.append((comment_id, topic))
    return wanted


def _responses(agent: Any) -> Mapping[str, Any]:
    domain = getattr(agent, "domain", None)
    return getattr(domain, "responses", None) or {}
