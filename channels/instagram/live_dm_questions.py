"""Direct messages that ask a question "for the live", during a scheduled Q&A.

While a Q&A in the schedule is on (channels/instagram/qa_windows.py; judged by the time
Meta says the DM was sent), a DM that says it is
a question for the live Q&A (``asks_for_the_live``: a short list of phrases, kept narrow so
an ordinary question is never passed on by mistake) is, besides being answered by the
assistant as usual, forwarded once to the desk's Live Q&A board like a live comment, and
the applicant is told so in one extra line. Outside a scheduled Q&A nothing changes.

The board knows the DM as ``dm-<hash of the message id>`` (comment ids are numeric, so the
two cannot collide) under the event's ``qa-<start>`` id. The sender's Instagram id stays
here, in the reply store, with the time of their message: when a host sends a group's
answer privately, the channel sends it as an ordinary DM, once per question (the same
claim as a comment's private reply), and only within Meta's 24-hour standard messaging
window counted from that message (a conservative bound: a later message would only
lengthen it). These DMs are not private replies, so they do not count against the hourly
private-reply cap, which exists for Meta's separate private-reply limit; the kill switch
INSTAGRAM_PRIVATE_REPLIES=off stops them too.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from typing import Any, Callable, Mapping

from channels.conversation_ids import conversation_id
from channels.instagram.comment_answers import ParserThread, response_text, understand
from channels.instagram.dedup import DedupUnavailable
from channels.instagram.desk_forward import DeskForwarder
from channels.instagram.graph_api import GraphApiClient
from channels.instagram.output import InstagramOutput
from channels.instagram.private_replies import CLAIM_TTL_SECONDS, ReplyStatus
from channels.instagram.qa_windows import QaSchedule
from channels.instagram.reply_store import ReplyStore
from channels.instagram.reply_windows import STANDARD_WINDOW_S
from channels.instagram.settings import InstagramSettings

logger = logging.getLogger(__name__)

DM_ID_PREFIX = "dm-"
MAX_QUESTION_CHARS = 2200  # what the board takes (Instagram's comment limit)
PASSED_ON = "I've also passed your question to the hosts of today's live Q&A."
ANSWER_LEAD = "About the question you sent for our live Q&A:"

_THE = r"(?:the|today['\u2019]?s|tonight['\u2019]?s)"
_EVENT = r"(?:live(?:\s*stream)?|q\s*&\s*a|q\s+and\s+a|qna)"
# "for the live", "for today's Q&A", "for the Q and A", "live question", "question for the
# hosts"/"host"/"panel", case-insensitive.
FOR_THE_LIVE = re.compile(
    rf"\bfor\s+{_THE}\s+{_EVENT}(?![\w&])"
    r"|\blive\s+question\b"
    r"|\bquestion\s+for\s+the\s+(?:hosts?|panel)\b",
    re.IGNORECASE,
)


def asks_for_the_live(text: str | None) -> bool:
    return bool(text) and FOR_THE_LIVE.search(text or "") is not None


def dm_question_id(mid: str) -> str:
    """The board's id for a DM: stable across redeliveries, never a comment id."""
    return DM_ID_PREFIX + hashlib.sha256(mid.encode("utf-8")).hexdigest()[:32]


def is_dm_question_id(question_id: str) -> bool:
    return question_id.startswith(DM_ID_PREFIX)


class LiveDmQuestions:
    def __init__(
        self,
        settings: InstagramSettings,
        client: GraphApiClient,
        store: ReplyStore,
        desk: DeskForwarder,
        parser: ParserThread,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._desk = desk
        self._parser = parser
        self._clock = clock
        self.schedule = QaSchedule(settings.qa_events_file, settings.live_qa_minutes)

    async def consider(
        self, sender_id: str, mid: str | None, text: str | None, timestamp_ms: int, agent: Any
    ) -> bool:
        """Forward an answered DM to the board if it is a question for a Q&A that is on.

        True when it was forwarded now, so the caller adds the PASSED_ON line once."""
        if not mid or not text or not self._desk.enabled or not asks_for_the_live(text):
            return False
        written_at = timestamp_ms // 1000
        window = self.schedule.at(written_at)
        if window is None:
            return False
        question_id = dm_question_id(mid)
        try:
            if not await self._store.claim(f"live-dm:{question_id}", CLAIM_TTL_SECONDS):
                return False
            record = {"sender": sender_id, "written_at": written_at}
            await self._store.remember(question_id, record, CLAIM_TTL_SECONDS)
        except DedupUnavailable:
            logger.error("instagram.live_dm.not_forwarded reason=store unavailable")
            return False
        responses = _responses(agent)
        understanding = await understand(agent, text, responses, self._parser)
        self._desk.forward(
            {
                "comment_id": question_id,
                "media_id": window.media_id,
                "text": text[:MAX_QUESTION_CHARS],
                "commenter": self._desk.pseudonym(sender_id),
                "created_time": written_at,
                "topic": understanding.topic,
                "abuse": understanding.abuse,
            }
        )
        return True

    async def answer(
        self, question_id: str, topic: str, responses: Mapping[str, Any]
    ) -> ReplyStatus:
        """The desk's "send answer privately" for a DM question: one DM with the answer."""
        try:
            return await self._answer(question_id, topic, responses)
        except DedupUnavailable:
            logger.error("instagram.live_dm.answer_unchecked reason=store unavailable")
            return ReplyStatus.ERROR

    async def _answer(
        self, question_id: str, topic: str, responses: Mapping[str, Any]
    ) -> ReplyStatus:
        if not self._settings.private_replies_enabled:
            return ReplyStatus.DISABLED
        record = await self._store.recall(question_id)
        sender = (record or {}).get("sender")
        written_at = (record or {}).get("written_at")
        answer = response_text(responses, f"utter_{topic}")
        if not isinstance(sender, str) or not isinstance(written_at, int) or not answer:
            return ReplyStatus.ERROR
        if self._clock() - written_at > STANDARD_WINDOW_S:
            return ReplyStatus.EXPIRED
        if not await self._store.claim(f"reply:{question_id}", CLAIM_TTL_SECONDS):
            return ReplyStatus.DUPLICATE
        output = InstagramOutput(self._client)
        text = f"{ANSWER_LEAD}\n\n{answer}"
        await output.send_text_message(conversation_id("instagram", sender), text)
        status = ReplyStatus.SENT if output.sent and not output.failed else ReplyStatus.ERROR
        logger.info("instagram.live_dm.answer outcome=%s", status.value)
        return status


def _responses(agent: Any) -> Mapping[str, Any]:
    domain = getattr(agent, "domain", None)
    return getattr(domain, "responses", None) or {}
