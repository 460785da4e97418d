"""A recruiter's reply, as the desk hands it to the Rasa server: channel-neutral.

The desk says only "this bot message was typed by a recruiter, in answer to an applicant
whose last message was at T"; each channel decides what that means for it. Instagram
(channels/instagram/output.py) alone knows its windows: a standard message within 24 hours
of the applicant's last message, the HUMAN_AGENT tag up to 7 days, nothing after that. A
channel that refuses a reply raises `ReplyRefused`; Rasa's HTTP API then answers 500 with
the error's text and stores nothing, and the desk, finding `REFUSED_MARKER` in the answer,
shows the recruiter the channel's reason.

The event is an ordinary `bot` event (its text in `text`, so every channel shows it as a
message) with this metadata, which Rasa hands to the output channel's send methods as
keyword arguments (rasa/core/channels/channel.py `send_response`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping

METADATA_KEY = "recruiter_reply"
HANDOFF_KEY = "desk_handoff"  # the desk's handoff id: marks the recruiter's lines in transcripts
REFUSED_MARKER = "recruiter_reply_refused"


@dataclass(frozen=True)
class RecruiterReply:
    """What a channel learns about a bot message a recruiter typed."""

    applicant_last_wrote_at: float | None  # Unix time of the applicant's latest message


class ReplyRefused(RuntimeError):
    """A channel will not deliver this recruiter reply; the message says why, for the desk."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{REFUSED_MARKER}: {reason}")
        self.reason = reason


def reply_event(
    text: str, handoff_id: int, applicant_last_wrote_at: float | None
) -> Dict[str, Any]:
    """The bot event the desk appends to the conversation for a recruiter's reply."""
    return {
        "event": "bot",
        "text": text,
        "metadata": {
            HANDOFF_KEY: handoff_id,
            METADATA_KEY: {"applicant_last_wrote_at": applicant_last_wrote_at},
        },
    }


def recruiter_reply_of(message: Mapping[str, Any]) -> RecruiterReply | None:
    """The recruiter reply a message (or a send method's keyword arguments) carries, if any."""
    found = message.get(METADATA_KEY)
    if not isinstance(found, Mapping):
        return None
    at = found.get("applicant_last_wrote_at")
    return RecruiterReply(float(at) if isinstance(at, (int, float)) else None)


def refusal_in(error_text: str) -> str | None:
    """The channel's reason, if Rasa's error answer is a channel refusing a reply."""
    marker = f"{REFUSED_MARKER}: "
    if marker not in error_text:
        return None
    return error_text.split(marker, 1)[1].strip() or None
