"""What a comment asks, and the private reply that answers it.

A comment is understood exactly as a direct message is: the loaded agent's NLU pipeline
parses it, off-topic gate included (components/open_set.py turns off-topic and unclear
messages into ``out_of_scope`` and ``nlu_fallback``). Only an FAQ topic with an answer in
the model's domain is answered; ``distress`` and ``report_threat`` get the domain's fixed
safety answer; greetings, compliments, chit-chat, abuse and anything unclear get nothing.
The answer text comes from the domain the model was trained with (one source for every
channel); a topic's answer is followed by an invitation to carry on in DMs.

Rasa's NLU runs synchronously: on the event loop, each comment's parse would hold up every
webhook acknowledgement behind it, and a live Q&A sends a comment every few tens of
milliseconds. So comments are parsed on a thread of their own (``ParserThread``); the event
loop stays free to acknowledge while one is parsed.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

from channels.instagram import formatting

FAQ_INTENT = "faq"
SAFETY_INTENTS = frozenset({"distress", "report_threat"})
ABUSE_INTENT = "abuse"
TOPIC = re.compile(r"^faq/[a-z0-9_]{1,80}$")
INVITATION = "Got another question? Reply here in DMs and I'll help."
_LETTERS = re.compile(r"\w", re.UNICODE)

Responses = Mapping[str, List[Dict[str, Any]]]


@dataclass(frozen=True)
class Understanding:
    intent: str | None
    topic: str | None = None  # "faq/<topic>" when the comment asks an answerable question

    @property
    def abuse(self) -> bool:
        return self.intent == ABUSE_INTENT

    @property
    def safety(self) -> bool:
        return self.intent in SAFETY_INTENTS

    @property
    def answer_name(self) -> str | None:
        """The domain response that answers the comment privately, if any."""
        if self.safety:
            return f"utter_{self.intent}"
        return f"utter_{self.topic}" if self.topic else None


NOTHING = Understanding(intent=None)


class ParserThread:
    """One worker thread that runs the agent's NLU for comments, one at a time."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="instagram-comments")

    async def parse(self, agent: Any, text: str) -> Dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _parse_blocking, agent, text)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _parse_blocking(agent: Any, text: str) -> Dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


async def understand(
    agent: Any, text: str, responses: Responses, parser: ParserThread | None = None
) -> Understanding:
    """Parse a comment with the agent's NLU; no words (empty, emoji only) is nothing."""
    # A leading "/" would make Rasa read the comment as an intent payload.
    cleaned = text.strip().lstrip("/").strip()
    if agent is None or not _LETTERS.search(cleaned):
        return NOTHING
    if parser is not None:
        parsed = await parser.parse(agent, cleaned)
    else:
        parsed = await agent.parse_message(cleaned)
    intent = (parsed.get("intent") or {}).get("name")
    if intent != FAQ_INTENT:
        return Understanding(intent=intent)
    selected = ((parsed.get("response_selector") or {}).get(FAQ_INTENT) or {}).get("response")
    key = (selected or {}).get("intent_response_key")
    if isinstance(key, str) and TOPIC.match(key) and f"utter_{key}" in responses:
        return Understanding(intent=intent, topic=key)
    return Understanding(intent=intent)


def is_answerable_topic(topic: Any, responses: Responses) -> bool:
    return isinstance(topic, str) and bool(TOPIC.match(topic)) and f"utter_{topic}" in responses


def private_reply_text(responses: Responses, understanding: Understanding) -> str | None:
    """The private reply for a comment: the answer (first part if long) and, for a topic,
    the invitation; within the Send API's 1,000 bytes. None when there is nothing to say."""
    name = understanding.answer_name
    answer = response_text(responses, name) if name else None
    if not answer:
        return None
    if understanding.safety:
        return formatting.split_text(answer)[0]
    room = formatting.MAX_TEXT_BYTES - formatting.utf8_len(INVITATION) - 2
    return f"{formatting.split_text(answer, room)[0]}\n\n{INVITATION}"


def response_text(responses: Responses, name: str) -> str | None:
    """The Instagram variant of a response (else the general one), with link buttons as
    lines of text; private replies carry text only."""
    variants = responses.get(name) or []
    chosen = next((v for v in variants if v.get("channel") == "instagram"), None)
    chosen = chosen or next((v for v in variants if not v.get("channel")), None)
    if not chosen or not isinstance(chosen.get("text"), str):
        return None
    _, links = formatting.quick_replies(chosen.get("buttons") or [])
    return "\n".join([chosen["text"].strip(), *links])
