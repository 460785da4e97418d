"""What the REST and socket.io channels accept, checked before any work is done.

A message that breaks a limit gets a short error (HTTP 400 or 413, or an ``error`` event on
socket.io) and nothing is stored. The same fair-use limit as on Instagram applies per
sender: beyond ``CHANNEL_MESSAGES_PER_WINDOW`` messages in ``CHANNEL_WINDOW_SECONDS`` the
sender gets one "slow down" reply, and the rest of the burst is refused without queueing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

MAX_MESSAGE_CHARS = 4000
MAX_SENDER_CHARS = 128
MESSAGES_PER_WINDOW = 20
WINDOW_SECONDS = 60.0
SLOW_DOWN = (
    "You're sending messages faster than I can answer them. Please wait a minute, then "
    "send your question again."
)


class Refused(ValueError):
    """A message the channel will not take; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class ChannelLimits:
    max_message_chars: int = MAX_MESSAGE_CHARS
    messages_per_window: int = MESSAGES_PER_WINDOW
    window_seconds: float = WINDOW_SECONDS

    @property
    def max_body_bytes(self) -> int:
        """A JSON body that could hold a message at the limit (4 bytes a character, escaped)."""
        return self.max_message_chars * 12 + 4096

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ChannelLimits:
        return cls(
            max_message_chars=_positive(environ, "CHANNEL_MAX_MESSAGE_CHARS", MAX_MESSAGE_CHARS),
            messages_per_window=_positive(
                environ, "CHANNEL_MESSAGES_PER_WINDOW", MESSAGES_PER_WINDOW
            ),
            window_seconds=float(_positive(environ, "CHANNEL_WINDOW_SECONDS", int(WINDOW_SECONDS))),
        )

    def check(self, sender: Any, text: Any) -> None:
        """Raise Refused unless `sender` and `text` are strings within the limits."""
        if not isinstance(sender, str) or not sender.strip():
            raise Refused(400, "'sender' must be a non-empty string.")
        if len(sender) > MAX_SENDER_CHARS:
            raise Refused(400, f"'sender' can be at most {MAX_SENDER_CHARS} characters.")
        if not isinstance(text, str):
            raise Refused(400, "'message' must be a string.")
        if len(text) > self.max_message_chars:
            raise Refused(413, f"'message' can be at most {self.max_message_chars} characters.")


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from error
    if value <= 0:
        raise ValueError(f"{name} must be above 0, not {value}")
    return value
