"""Rasa's responses, sent to the applicant through Instagram's Send API.

Recipients are conversation ids ``instagram:<IGSID>`` (channels/conversation_ids.py); any
other id is refused, so nothing meant for another channel's conversation reaches Instagram.

The output channel never raises: Rasa saves the conversation only after every response
has been sent, so an exception here would lose the applicant's turn. A failed send is
logged (by the client, without content) and counted, and the rest of that response is
dropped, since its later parts make no sense without the first.

The one exception is a recruiter's reply (contracts/recruiter_reply.py), which arrives
through Rasa's HTTP API, never in an applicant's turn: this channel decides Meta's window
for it (channels/instagram/reply_windows.py), tags it HUMAN_AGENT after 24 hours, and
raises ReplyRefused after 7 days, so Rasa stores nothing and the desk shows the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Dict, Iterable, List

from rasa.core.channels.channel import OutputChannel

from channels.conversation_ids import external_id
from channels.instagram import formatting, reply_windows
from channels.instagram.graph_api import HUMAN_AGENT, GraphApiClient, GraphApiError
from channels.instagram.sender_queues import AckFirst
from contracts.recruiter_reply import recruiter_reply_of

logger = logging.getLogger(__name__)

# The message tags this channel sends (a recruiter's reply after 24 hours).
ALLOWED_TAGS = frozenset({HUMAN_AGENT})


class InstagramOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "instagram"

    def __init__(
        self,
        client: GraphApiClient,
        message_tag: str | None = None,
        before_first_send: asyncio.Future | None = None,
        gate: AckFirst | None = None,
    ) -> None:
        if message_tag is not None and message_tag not in ALLOWED_TAGS:
            raise ValueError(f"unsupported message tag {message_tag!r}")
        self._client = client
        self._tag = message_tag
        # The typing indicator, started while the model works; replies wait for it so
        # the indicator can never arrive after the answer.
        self._before_first_send = before_first_send
        # After a reply, Rasa goes on to predict its next action on the event loop; let
        # webhooks that arrived meanwhile be acknowledged first.
        self._gate = gate
        self.sent = 0
        self.failed = 0

    def human_agent(self) -> InstagramOutput:
        """The same channel, tagged HUMAN_AGENT for a recruiter's reply."""
        return InstagramOutput(self._client, message_tag=HUMAN_AGENT, gate=self._gate)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        reply = recruiter_reply_of(kwargs)
        tag = None if reply is None else reply_windows.tag_for(reply, time.time())
        await self._send_all(recipient_id, formatting.text_messages(text), tag)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        replies, links = formatting.quick_replies(buttons)
        if links:
            text = "\n".join([text, *links])
        await self._send_all(recipient_id, formatting.text_messages(text, replies))

    async def send_quick_replies(
        self,
        recipient_id: str,
        text: str,
        quick_replies: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send_all(recipient_id, [formatting.image_message(image)])

    async def send_elements(
        self, recipient_id: str, elements: Iterable[Dict[str, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            title = str(element.get("title") or "")
            subtitle = str(element.get("subtitle") or "")
            text = f"{title}\n{subtitle}".strip()
            await self.send_text_with_buttons(
                recipient_id, text, element.get("buttons") or [], **kwargs
            )

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """A custom payload {"text", optional "quick_replies"}."""
        if not (isinstance(json_message, dict) and isinstance(json_message.get("text"), str)):
            logger.warning("instagram.output.custom_ignored reason=not a text message")
            return
        replies, links = formatting.quick_replies(json_message.get("quick_replies") or [])
        text = "\n".join([json_message["text"], *links])
        await self._send_all(recipient_id, formatting.text_messages(text, replies))

    async def _send_all(
        self, recipient_id: str, messages: List[Dict[str, Any]], tag: str | None = None
    ) -> None:
        if not messages:
            return
        instagram_id = external_id(self.name(), recipient_id)
        if instagram_id is None:
            # Only the applicant's own conversation, instagram:<IGSID>, is sent to Instagram.
            logger.warning("instagram.output.refused reason=not an Instagram conversation")
            self.failed += 1
            return
        tag = tag or self._tag
        await self._wait_for_typing()
        for message in messages:
            try:
                await self._client.send_message(instagram_id, message, tag=tag)
            except GraphApiError:
                self.failed += 1
                return
            except Exception:  # never let a send break Rasa's turn
                logger.exception("instagram.output.unexpected_error")
                self.failed += 1
                return
            self.sent += 1
        if self._gate is not None:
            await self._gate.wait_turn()

    async def _wait_for_typing(self) -> None:
        waiting, self._before_first_send = self._before_first_send, None
        if waiting is None:
            return
        with contextlib.suppress(Exception):  # cosmetic; its failure was logged
            await waiting
