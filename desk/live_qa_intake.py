"""What the Instagram channel posts to `POST /api/live-questions`, checked and redacted.

The channel sends each live comment it collects as a question: the comment and media ids,
the text, an opaque pseudonym of the commenter (never the username), the comment's time,
the topic the assistant understood in it, if any, and whether it is abuse. Anything else is
refused with a message that says which field is wrong, so nothing is stored half-right.

The text is stored redacted: the trainers' redaction (training/redaction.py: e-mail
addresses, phone numbers, NI numbers, postcodes, card numbers, personal links), then the
two ways a comment names a person that it misses: an @mention of another account, and a
self-introduction ("my name is Jo Bloggs").
"""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping

from desk.live_qa_store import NewQuestion
from training.redaction import redact as redact_personal_data

# Instagram's longest comment.
MAX_TEXT_CHARS = 2200
MAX_ID_CHARS = 255
MAX_TOPIC_CHARS = 100
USERNAME, NAME = "[USERNAME]", "[NAME]"
# Instagram usernames: letters, digits, "." and "_", at most 30 characters.
MENTION = re.compile(r"(?<![\w.@])@[A-Za-z0-9._]{1,30}")
# "my name is Jo Bloggs", "my name's jo", "I'm called Jo": one to three capitalised words,
# or a single word written in lower case.
INTRODUCTION = re.compile(
    r"(?P<lead>(?i:\b(?:my name is|my name's|my names|i am called|i'm called|im called)\s+))"
    r"(?P<name>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}|[a-z][\w'-]*)"
)
TOPIC = re.compile(r"^[a-z0-9_]+(?:/[a-z0-9_]+)?$")


class BadQuestion(ValueError):
    """The body is not a live question; the message says what is wrong."""


def redact(text: str) -> str:
    """Personal data, @mentions and self-introduced names replaced by placeholders."""
    redacted = redact_personal_data(text)
    redacted = MENTION.sub(USERNAME, redacted)
    return INTRODUCTION.sub(r"\g<lead>" + NAME, redacted)


def parse(body: Any) -> NewQuestion:
    """The question in `body`, its text not yet redacted; BadQuestion if anything is off."""
    if not isinstance(body, Mapping):
        raise BadQuestion("Send a JSON object.")
    comment_id = _identifier(body, "comment_id")
    media_id = _identifier(body, "media_id")
    commenter = _identifier(body, "commenter")
    text = body.get("text")
    if not isinstance(text, str):
        raise BadQuestion("text must be a string (the comment's text).")
    if len(text) > MAX_TEXT_CHARS:
        raise BadQuestion(
            f"text is {len(text)} characters; Instagram's comments have at most {MAX_TEXT_CHARS}."
        )
    abuse = body.get("abuse")
    if not isinstance(abuse, bool):
        raise BadQuestion("abuse must be true or false.")
    if not text.strip() and not abuse:
        raise BadQuestion("text is empty: there is no question to show.")
    return NewQuestion(
        comment_id=comment_id,
        media_id=media_id,
        text=text.strip(),
        commenter=commenter,
        created_time=_created_time(body),
        topic=_topic(body),
        abuse=abuse,
    )


def _identifier(body: Mapping, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadQuestion(f"{name} must be a non-empty string.")
    if len(value) > MAX_ID_CHARS:
        raise BadQuestion(f"{name} is longer than {MAX_ID_CHARS} characters.")
    return value.strip()


def _created_time(body: Mapping) -> int:
    value = body.get("created_time")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadQuestion("created_time must be the comment's time in whole epoch seconds.")
    if value >= 2**53:
        raise BadQuestion("created_time is not a plausible time in epoch seconds.")
    return value


def _topic(body: Mapping) -> str | None:
    value = body.get("topic")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TOPIC_CHARS or not TOPIC.match(value):
        raise BadQuestion('topic must be null or a topic name such as "faq/process_how_to_apply".')
    return value


def summary(stored_id: int, group_id: int | None, duplicate: bool) -> Dict[str, Any]:
    return {
        "question_id": stored_id,
        "group_id": group_id,
        "status": "duplicate" if duplicate else "stored",
    }
