"""Rasa's socket.io channel for the web chat, with sessions the server owns.

Shaped like ``rasa.core.channels.socketio.SocketIOInput`` (same events, same output
channel) with these differences, each closing a way to reach someone else's conversation:

- **Sessions.** ``session_request`` gets a server-issued session id (channels/webchat_sessions.py);
  a proposed id is kept only if the server issued it, otherwise the browser gets a fresh
  one. The session is bound to the socket, so ``user_uttered`` talks in the socket's own
  conversation ``webchat:<key>`` whatever ``session_id`` the message names.
- **Origin.** Browsers may connect only from the configured origins
  (``allowed_origins`` in credentials.yml or ``WEBCHAT_ALLOWED_ORIGINS``, comma-separated);
  by default only from the page's own origin.
- **Limits.** A message that is not a string or is over the size limit gets an ``error``
  event and is not processed; a sender over the fair-use rate gets one "slow down" message,
  then ``error`` events (channels/limits.py).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from channels.conversation_ids import conversation_id
from channels.flood import FloodControl, Verdict
from channels.limits import SLOW_DOWN, ChannelLimits, Refused
from channels.webchat_sessions import SessionIds

logger = logging.getLogger(__name__)

ORIGINS_ENV = "WEBCHAT_ALLOWED_ORIGINS"
ERROR_EVENT = "error"
NO_SESSION = "Send session_request first."
TOO_MANY = "Too many messages: wait a minute, then send your question again."


def allowed_origins(credentials: Dict[str, Any]) -> List[str] | None:
    """The origins browsers may connect from; None means the page's own origin only."""
    configured = os.environ.get(ORIGINS_ENV, "").strip()
    if configured:
        return [origin.strip() for origin in configured.split(",") if origin.strip()]
    listed = credentials.get("allowed_origins")
    return [str(origin) for origin in listed] if listed else None


class WebChatSocketIOInput(SocketIOInput):
    """socket.io for the web chat: conversations ``webchat:<key>``, keys the server issued."""

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,
            credentials.get("socketio_path", "/socket.io"),
        )
        channel.origins = allowed_origins(credentials)
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.origins: List[str] | None = None
        self.sessions = SessionIds.from_env()
        self.limits = ChannelLimits.from_env()
        self.flood = FloodControl(self.limits.messages_per_window, self.limits.window_seconds)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.origins)
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            proposed = data.get("session_id") if isinstance(data, dict) else None
            key = self.sessions.verify(proposed)
            session_id = proposed
            if key is None:
                session_id, key = self.sessions.issue()
            conversation = conversation_id(self.name(), key)
            await sio.save_session(sid, {"conversation": conversation}, namespace=self.namespace)
            sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=self.namespace)
            conversation = session.get("conversation")
            try:
                if conversation is None:
                    raise Refused(400, NO_SESSION)
                text = data.get("message") if isinstance(data, dict) else None
                self.limits.check(conversation, text)
            except Refused as refused:
                await self._refuse(sid, refused.status, str(refused))
                return
            verdict = self.flood.check(conversation)
            if verdict is Verdict.DROP:
                await self._refuse(sid, 429, TOO_MANY)
                return
            if verdict is Verdict.WARN:
                logger.warning("socketio.flood.limited")
                await SocketIOOutput(sio, self.bot_message_evt).send_text_message(
                    conversation, SLOW_DOWN
                )
                return
            metadata = data.get(self.metadata_key) if self.metadata_key else None
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                conversation,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            await on_new_message(message)

        return socketio_webhook

    async def _refuse(self, sid: str, status: int, reason: str) -> None:
        assert self.sio is not None
        error = {"status": status, "error": reason}
        await self.sio.emit(ERROR_EVENT, error, room=sid, namespace=self.namespace)
