"""Instagram Messaging webhook deliveries, turned into events the channel can act on.

A delivery is ``{"object": "instagram", "entry": [{"id", "time", "messaging": [...]}]}``
and may carry several entries, each with several events. Every event is returned, in
timestamp order (Rasa's Facebook channel stops at the first one). A delivery whose
envelope is broken is refused; a single odd event is skipped so the rest still count.

Attachment URLs (story mentions above all, which Meta forbids storing) are never kept:
an attachment event carries only the attachment types. A story mention becomes its own
kind; a reply to a story is a text message like any other (``reply_to.story`` is dropped).
Comments (``changes`` entries for the ``comments`` and ``live_comments`` fields) are
parsed by channels/instagram/comments.py.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from channels.instagram.comments import CommentEvent, parse_changes

INSTAGRAM_OBJECT = "instagram"


class MalformedDelivery(ValueError):
    """The body is not a webhook delivery at all; the reason is safe to show the caller."""


class EventKind(str, enum.Enum):
    TEXT = "text"
    QUICK_REPLY = "quick_reply"
    POSTBACK = "postback"
    ATTACHMENT = "attachment"
    STORY_MENTION = "story_mention"
    REACTION = "reaction"
    READ = "read"
    EDIT = "edit"
    DELETION = "deletion"
    ECHO = "echo"
    OTHER = "other"


ANSWERED_KINDS = frozenset(
    {
        EventKind.TEXT,
        EventKind.QUICK_REPLY,
        EventKind.POSTBACK,
        EventKind.ATTACHMENT,
        EventKind.STORY_MENTION,
    }
)


@dataclass(frozen=True)
class InboundEvent:
    kind: EventKind
    sender_id: str
    recipient_id: str
    timestamp: int
    mid: str | None = None
    # What Rasa receives: typed text, or the payload of a quick reply or ice breaker.
    text: str | None = None
    attachment_types: Tuple[str, ...] = ()
    # A reply to one of the account's stories (the story itself is never kept).
    story_reply: bool = False

    @property
    def answered(self) -> bool:
        return self.kind in ANSWERED_KINDS


@dataclass
class Delivery:
    object: str
    events: List[InboundEvent] = field(default_factory=list)
    comments: List[CommentEvent] = field(default_factory=list)
    skipped: int = 0

    @property
    def for_instagram(self) -> bool:
        return self.object == INSTAGRAM_OBJECT


def decode(body: bytes) -> Any:
    """The JSON value of a raw body; MalformedDelivery if it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedDelivery("body is not UTF-8") from error
    try:
        return json.loads(text)
    except RecursionError as error:
        raise MalformedDelivery("body is nested too deeply") from error
    except ValueError as error:
        raise MalformedDelivery("body is not valid JSON") from error


def parse_delivery(payload: Any) -> Delivery:
    """All events of a delivery, oldest first."""
    if not isinstance(payload, dict):
        raise MalformedDelivery("body must be a JSON object")
    kind = payload.get("object")
    if not isinstance(kind, str):
        raise MalformedDelivery("'object' is missing")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedDelivery("'entry' must be a list")
    delivery = Delivery(object=kind)
    if not delivery.for_instagram:
        return delivery

    ordered: List[Tuple[int, int, int, InboundEvent]] = []
    for entry_index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            delivery.skipped += 1
            continue
        account_id = _id(entry.get("id"))
        entry_time = _int(entry.get("time"), 0)
        messaging = entry.get("messaging")
        if messaging is None and "changes" in entry:
            comments, skipped = parse_changes(entry.get("changes"), account_id, entry_time)
            delivery.comments.extend(comments)
            delivery.skipped += skipped
            continue
        if messaging is None:
            # Other webhook fields (mentions) and standby events are not ours.
            delivery.skipped += 1
            continue
        if not isinstance(messaging, list):
            delivery.skipped += 1
            continue
        for event_index, raw in enumerate(messaging):
            event = parse_event(raw, account_id, entry_time)
            if event is None:
                delivery.skipped += 1
                continue
            ordered.append((event.timestamp, entry_index, event_index, event))
    ordered.sort(key=lambda item: item[:3])
    delivery.events = [item[3] for item in ordered]
    return delivery


def parse_event(
    raw: Any, account_id: str | None = None, default_time: int = 0
) -> InboundEvent | None:
    """One ``messaging`` item, or None when it lacks what any event needs."""
    if not isinstance(raw, dict):
        return None
    sender_id = _id(_get(raw, "sender", "id"))
    recipient_id = _id(_get(raw, "recipient", "id"))
    if not sender_id or not recipient_id:
        return None
    base: Dict[str, Any] = {
        "sender_id": sender_id,
        "recipient_id": recipient_id,
        "timestamp": _int(raw.get("timestamp"), default_time),
    }
    if account_id and sender_id == account_id:
        return InboundEvent(EventKind.ECHO, **base)
    if isinstance(raw.get("message"), dict):
        return _message_event(raw["message"], base)
    if isinstance(raw.get("postback"), dict):
        postback = raw["postback"]
        payload = _text(postback.get("payload")) or _text(postback.get("title"))
        if not payload:
            return InboundEvent(EventKind.OTHER, **base)
        return InboundEvent(EventKind.POSTBACK, mid=_id(postback.get("mid")), text=payload, **base)
    for key, kind in (
        ("reaction", EventKind.REACTION),
        ("read", EventKind.READ),
        ("message_edit", EventKind.EDIT),
    ):
        if key in raw:
            return InboundEvent(kind, **base)
    return InboundEvent(EventKind.OTHER, **base)


def _message_event(message: Dict[str, Any], base: Dict[str, Any]) -> InboundEvent:
    mid = _id(message.get("mid"))
    if message.get("is_echo"):
        return InboundEvent(EventKind.ECHO, mid=mid, **base)
    if message.get("is_deleted"):
        return InboundEvent(EventKind.DELETION, mid=mid, **base)
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and _text(quick_reply.get("payload")):
        return InboundEvent(
            EventKind.QUICK_REPLY, mid=mid, text=_text(quick_reply["payload"]), **base
        )
    attachments = message.get("attachments")
    types: Tuple[str, ...] = ()
    if isinstance(attachments, list):
        types = tuple(
            str(item.get("type") or "unknown") for item in attachments if isinstance(item, dict)
        )
    text = _text(message.get("text"))
    story_reply = isinstance(message.get("reply_to"), dict) and "story" in message["reply_to"]
    if text:
        return InboundEvent(
            EventKind.TEXT,
            mid=mid,
            text=text,
            attachment_types=types,
            story_reply=story_reply,
            **base,
        )
    if "story_mention" in types:
        return InboundEvent(EventKind.STORY_MENTION, mid=mid, attachment_types=types, **base)
    if types:
        return InboundEvent(EventKind.ATTACHMENT, mid=mid, attachment_types=types, **base)
    if message.get("is_unsupported"):
        return InboundEvent(
            EventKind.ATTACHMENT, mid=mid, attachment_types=("unsupported",), **base
        )
    return InboundEvent(EventKind.OTHER, mid=mid, **base)


def _get(raw: Dict[str, Any], key: str, inner: str) -> Any:
    value = raw.get(key)
    return value.get(inner) if isinstance(value, dict) else None


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value
