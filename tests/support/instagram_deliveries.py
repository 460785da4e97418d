"""Webhook deliveries as Meta sends them, signed, for the tests and the benchmark.

Shapes follow Meta's documented Instagram messaging webhooks: ``object: "instagram"``,
``entry[].messaging[]`` with sender, recipient, timestamp and one of message (text,
quick_reply, attachments, is_echo, is_deleted), postback, reaction, read or
message_edit; and ``entry[].changes[]`` with ``field`` ``comments`` or ``live_comments``
and a ``value`` of from{id, username}, media{id, media_product_type}, id, parent_id and
text (the entry's ``time`` in seconds). Meta escapes non-ASCII characters and slashes in
its JSON (``\\u00e9``, ``\\/``); ``encode`` does the same by default, since signatures
must survive that.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, List

from channels.instagram.signature import HEADER, sign

ACCOUNT_ID = "17841400000000001"  # the careers account's Instagram professional account id


def new_mid() -> str:
    return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj" + secrets.token_urlsafe(24)


def new_sender() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def now_ms() -> int:
    return int(time.time() * 1000)


def new_comment_id() -> str:
    return str(17_900_000_000_000_000 + secrets.randbelow(10**15))


def new_media_id() -> str:
    return str(18_000_000_000_000_000 + secrets.randbelow(10**15))


@dataclass
class Deliveries:
    """Builds events and deliveries for one Instagram account."""

    account_id: str = ACCOUNT_ID

    def _event(self, sender: str, timestamp: int | None, **content: Any) -> Dict[str, Any]:
        return {
            "sender": {"id": sender},
            "recipient": {"id": self.account_id},
            "timestamp": timestamp if timestamp is not None else now_ms(),
            **content,
        }

    def text(
        self, sender: str, text: str, mid: str | None = None, timestamp: int | None = None
    ) -> Dict[str, Any]:
        return self._event(sender, timestamp, message={"mid": mid or new_mid(), "text": text})

    def quick_reply(
        self, sender: str, title: str, payload: str, mid: str | None = None
    ) -> Dict[str, Any]:
        message = {"mid": mid or new_mid(), "text": title, "quick_reply": {"payload": payload}}
        return self._event(sender, None, message=message)

    def postback(self, sender: str, title: str, payload: str) -> Dict[str, Any]:
        postback = {"mid": new_mid(), "title": title, "payload": payload}
        return self._event(sender, None, postback=postback)

    def attachment(self, sender: str, kind: str, url: str) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"url": url}
        if kind == "ig_reel":
            payload.update({"reel_video_id": "18000000000000001", "title": "A reel"})
        message = {"mid": new_mid(), "attachments": [{"type": kind, "payload": payload}]}
        return self._event(sender, None, message=message)

    def unsupported(self, sender: str) -> Dict[str, Any]:
        return self._event(sender, None, message={"mid": new_mid(), "is_unsupported": True})

    def reaction(self, sender: str, mid: str, emoji: str = "\u2764\ufe0f") -> Dict[str, Any]:
        reaction = {"mid": mid, "action": "react", "reaction": "love", "emoji": emoji}
        return self._event(sender, None, reaction=reaction)

    def read(self, sender: str, mid: str) -> Dict[str, Any]:
        return self._event(sender, None, read={"mid": mid})

    def edit(self, sender: str, mid: str, text: str) -> Dict[str, Any]:
        return self._event(sender, None, message_edit={"mid": mid, "text": text, "num_edit": 1})

    def deletion(self, sender: str, mid: str) -> Dict[str, Any]:
        return self._event(sender, None, message={"mid": mid, "is_deleted": True})

    def story_mention(self, sender: str) -> Dict[str, Any]:
        """A mention of the account in the sender's story (its media URL must not be kept)."""
        url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1790000000&signature=x"
        attachment = {"type": "story_mention", "payload": {"url": url}}
        return self._event(sender, None, message={"mid": new_mid(), "attachments": [attachment]})

    def story_reply(self, sender: str, text: str) -> Dict[str, Any]:
        """A DM replying to one of the account's stories."""
        story = {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", "id": "1790"}
        message = {"mid": new_mid(), "text": text, "reply_to": {"story": story}}
        return self._event(sender, None, message=message)

    def comment(
        self,
        text: str | None,
        commenter: str | None = None,
        comment_id: str | None = None,
        media_id: str = "18000000000000101",
        product_type: str = "FEED",
        field: str = "comments",
        parent_id: str | None = None,
    ) -> Dict[str, Any]:
        """One ``changes`` item: a comment (or, with field="live_comments", a live comment)."""
        commenter = commenter or new_sender()
        value: Dict[str, Any] = {
            "from": {"id": commenter, "username": f"user{commenter[-6:]}"},
            "media": {"id": media_id, "media_product_type": product_type},
            "id": comment_id or new_comment_id(),
        }
        if parent_id:
            value["parent_id"] = parent_id
        if text is not None:
            value["text"] = text
        return {"field": field, "value": value}

    def live_comment(
        self, text: str, media_id: str, commenter: str | None = None, comment_id: str | None = None
    ) -> Dict[str, Any]:
        return self.comment(text, commenter, comment_id, media_id, "LIVE", "live_comments")

    def changes(self, *changes: Dict[str, Any], sent_at: int | None = None) -> Dict[str, Any]:
        """One entry carrying comment ``changes``; ``sent_at`` in epoch seconds."""
        when = sent_at if sent_at is not None else int(time.time())
        return {
            "object": "instagram",
            "entry": [{"id": self.account_id, "time": when, "changes": list(changes)}],
        }

    def echo(self, recipient: str, text: str) -> Dict[str, Any]:
        """The account's own message, echoed back: sender is the account."""
        return {
            "sender": {"id": self.account_id},
            "recipient": {"id": recipient},
            "timestamp": now_ms(),
            "message": {"mid": new_mid(), "text": text, "is_echo": True},
        }

    def delivery(self, *events: Dict[str, Any]) -> Dict[str, Any]:
        """One entry carrying all ``events``."""
        return self.entries([list(events)])

    def entries(self, groups: List[List[Dict[str, Any]]]) -> Dict[str, Any]:
        """One entry per group of events, as Meta batches them."""
        return {
            "object": "instagram",
            "entry": [
                {"time": now_ms(), "id": self.account_id, "messaging": group} for group in groups
            ],
        }


def encode(payload: Any, meta_style: bool = True) -> bytes:
    """JSON bytes; Meta's style escapes non-ASCII as \\uXXXX and '/' as '\\/'."""
    if meta_style:
        return json.dumps(payload, ensure_ascii=True).replace("/", "\\/").encode("ascii")
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def signed_headers(app_secret: str, body: bytes) -> Dict[str, str]:
    return {"Content-Type": "application/json", HEADER: sign(app_secret, body)}
