"""Comment notifications (webhook fields ``comments`` and ``live_comments``) as events.

Meta sends them as ``entry[].changes[]`` items, ``{"field": "comments" | "live_comments",
"value": {"from": {"id", "username"}, "media": {"id", "media_product_type"}, "id",
"parent_id", "text"}}``. The notification carries no creation time of its own, so the
entry's ``time`` (when Meta sent it, moments after the comment was made; seconds, or
milliseconds on some deliveries) stands for the comment's time. The commenter's username
is never kept: only their Instagram-scoped id, which the private reply does not even need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

COMMENT_FIELDS = frozenset({"comments", "live_comments"})
LIVE_PRODUCT_TYPE = "LIVE"
# Epoch values above this are milliseconds (year 2286 in seconds).
_MILLISECONDS_FROM = 10**10


@dataclass(frozen=True)
class CommentEvent:
    comment_id: str
    account_id: str
    commenter_id: str
    media_id: str
    media_product_type: str
    created_time: int  # epoch seconds
    text: str
    field: str
    parent_id: str | None = None

    @property
    def live(self) -> bool:
        """A comment on a live broadcast: it may be answered only while the broadcast runs."""
        return self.field == "live_comments" or self.media_product_type == LIVE_PRODUCT_TYPE

    @property
    def own(self) -> bool:
        """Written by the careers account itself (a host's comment, a public reply)."""
        return self.commenter_id == self.account_id


def epoch_seconds(value: int) -> int:
    return value // 1000 if value >= _MILLISECONDS_FROM else value


def parse_changes(
    changes: Any, account_id: str | None, entry_time: int
) -> Tuple[List[CommentEvent], int]:
    """The comments among an entry's changes, and how many items were skipped."""
    if not isinstance(changes, list) or not account_id:
        return [], 1
    comments: List[CommentEvent] = []
    skipped = 0
    for change in changes:
        comment = parse_change(change, account_id, epoch_seconds(entry_time))
        if comment is None:
            skipped += 1
        else:
            comments.append(comment)
    return comments, skipped


def parse_change(change: Any, account_id: str, created_time: int) -> CommentEvent | None:
    """One ``changes`` item, or None when it is not a comment or lacks its ids."""
    if not isinstance(change, dict) or change.get("field") not in COMMENT_FIELDS:
        return None
    value = change.get("value")
    if not isinstance(value, dict):
        return None
    commenter = _object(value.get("from"))
    media = _object(value.get("media"))
    comment_id, commenter_id = _id(value.get("id")), _id(commenter.get("id"))
    media_id = _id(media.get("id"))
    if not (comment_id and commenter_id and media_id):
        return None
    text = value.get("text")
    return CommentEvent(
        comment_id=comment_id,
        account_id=account_id,
        commenter_id=commenter_id,
        media_id=media_id,
        media_product_type=str(media.get("media_product_type") or "").upper()[:20],
        created_time=created_time,
        text=text if isinstance(text, str) else "",
        field=str(change["field"]),
        parent_id=_id(value.get("parent_id")),
    )


def _object(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text if text and len(text) <= 64 else None
