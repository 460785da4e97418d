"""Meta's messaging windows, for a recruiter's reply (contracts/recruiter_reply.py).

Meta allows a standard message within 24 hours of the applicant's last message; after that
only a message a person typed, tagged HUMAN_AGENT, and only for 7 days. The desk says only
that a person typed the reply; this channel alone decides what Instagram allows.
"""

from __future__ import annotations

from channels.instagram.graph_api import HUMAN_AGENT
from contracts.recruiter_reply import RecruiterReply, ReplyRefused

STANDARD_WINDOW_S = 24 * 3600
HUMAN_AGENT_WINDOW_S = 7 * 24 * 3600
TOO_LATE = (
    "Instagram only allows a reply within 7 days of the applicant's last message, and it is "
    "older than that. The reply was not sent."
)


def tag_for(reply: RecruiterReply, now: float) -> str | None:
    """The message tag a recruiter's reply goes with (None: a standard message).

    Raises ReplyRefused after 7 days, or when the applicant's last message is unknown."""
    last = reply.applicant_last_wrote_at
    age = now - last if last is not None else float("inf")
    if age > HUMAN_AGENT_WINDOW_S:
        raise ReplyRefused(TOO_LATE)
    return HUMAN_AGENT if age > STANDARD_WINDOW_S else None
