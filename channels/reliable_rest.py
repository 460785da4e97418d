"""Rasa's REST channel, but it never acknowledges a message it failed to handle.

Rasa 3.6's ``RestInput`` catches every error while handling a message (tracker store down,
lock store down, lock not acquired) and still answers 200 with an empty list: the client
believes the message was taken, yet nothing was stored and no reply came, and the message
text goes into the error log. Here such a message gets 503 with ``Retry-After``, so the client
sends it again, and the log names the error, never the text. The URL, the request body and
the reply for a handled message are Rasa's (POST /webhooks/rest/webhook).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 2
NOT_HANDLED = "The message could not be handled just now. Send it again."


def sender_reference(sender_id: str) -> str:
    """A short, stable stand-in for a sender in logs (sender ids are personal data)."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


class ReliableRestInput(RestInput):
    """POST /webhooks/rest/webhook: 200 with the replies, or 503 when nothing was handled."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = _json_object(request)
            if body is None:
                return response.json({"error": "Send a JSON object."}, status=400)
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not sender:
                return response.json({"error": "'sender' must be a non-empty string."}, 400)
            if text is not None and not isinstance(text, str):
                return response.json({"error": "'message' must be a string."}, status=400)
            metadata = body.get("metadata")
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=body.get("input_channel") or self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            try:
                await on_new_message(message)
            except (Exception, asyncio.CancelledError) as error:
                logger.error(
                    "rest.message.not_handled sender=%s error=%s",
                    sender_reference(sender),
                    type(error).__name__,
                )
                return response.json(
                    {"error": NOT_HANDLED},
                    status=503,
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                )
            return response.json(collector.messages)

        return webhook


def _json_object(request: Request) -> Dict[str, Any] | None:
    try:
        body = request.json
    except Exception:  # Sanic raises on a body that is not JSON
        return None
    return body if isinstance(body, dict) else None
