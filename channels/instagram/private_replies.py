"""Private replies to comments, with Meta's rules and ours enforced in one place.

Both ways a private reply is asked for (a careers question in a comment, and the desk's
"send answer privately" for a group of live questions) go through ``PrivateReplies.send``,
which checks, in order:

1. the kill switch (INSTAGRAM_PRIVATE_REPLIES=off) and the covered media
   (INSTAGRAM_PRIVATE_REPLY_MEDIA): ``disabled``;
2. the comment is at most 7 days old: ``expired``;
3. a live comment's broadcast is still running: ``not_live``. Meta's
   ``GET /<IG_ID>/live_media`` lists only broadcasts running at the time of the request,
   so the channel asks it (its answer kept for LIVE_CACHE_SECONDS);
4. no private reply was sent for this comment id yet, on any replica: ``duplicate``;
5. the hourly cap (INSTAGRAM_PRIVATE_REPLIES_PER_HOUR, a sliding hour shared through the
   store): ``over_cap``, counted and skipped, never queued for later;
6. the Graph API takes it: ``sent``, else ``error`` (the comment stays claimed: Meta
   allows one reply per comment, and a failed one is not tried again blindly).
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Tuple

from channels.instagram.dedup import DedupUnavailable
from channels.instagram.graph_api import GraphApiClient, GraphApiError
from channels.instagram.reply_store import ReplyStore
from channels.instagram.settings import InstagramSettings
from observability.metrics import PRIVATE_REPLIES

logger = logging.getLogger(__name__)

REPLY_WINDOW_SECONDS = 7 * 24 * 3600
HOUR_SECONDS = 3600.0
LIVE_CACHE_SECONDS = 10.0
# Claims outlive the 7-day window, so a redelivery within it can never reply twice.
CLAIM_TTL_SECONDS = REPLY_WINDOW_SECONDS + 24 * 3600


class ReplyStatus(str, enum.Enum):
    SENT = "sent"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    NOT_LIVE = "not_live"
    OVER_CAP = "over_cap"
    DISABLED = "disabled"
    ERROR = "error"


@dataclass(frozen=True)
class CommentRecord:
    """What the rules need to know about a comment; what the store keeps (no text, no ids
    of people)."""

    comment_id: str
    account_id: str
    media_id: str
    created_time: int
    live: bool

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, comment_id: str, raw: Dict[str, Any]) -> CommentRecord | None:
        try:
            return cls(
                comment_id=comment_id,
                account_id=str(raw["account_id"]),
                media_id=str(raw["media_id"]),
                created_time=int(raw["created_time"]),
                live=bool(raw["live"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class LiveBroadcasts:
    """Which of the account's media are being broadcast live now, asked of the Graph API."""

    def __init__(self, client: GraphApiClient, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._clock = clock
        self._known: Dict[str, Tuple[float, frozenset]] = {}

    async def running(self, account_id: str, media_id: str) -> bool:
        known = self._known.get(account_id)
        if known is None or self._clock() - known[0] > LIVE_CACHE_SECONDS:
            ids = frozenset(await self._client.live_media_ids(account_id))
            known = (self._clock(), ids)
            self._known[account_id] = known
        return media_id in known[1]

    def forget(self) -> None:
        self._known.clear()


class PrivateReplies:
    def __init__(
        self,
        settings: InstagramSettings,
        client: GraphApiClient,
        store: ReplyStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._clock = clock
        self.live = LiveBroadcasts(client)

    async def remember(self, comment: CommentRecord) -> None:
        await self._store.remember(comment.comment_id, comment.as_dict(), CLAIM_TTL_SECONDS)

    async def recall(self, comment_id: str) -> CommentRecord | None:
        raw = await self._store.recall(comment_id)
        return CommentRecord.from_dict(comment_id, raw) if raw else None

    async def send(self, comment: CommentRecord, text: str) -> ReplyStatus:
        """Send ``text`` as the comment's one private reply, if every rule allows it."""
        try:
            status = await self._send(comment, text)
        except DedupUnavailable as error:
            logger.error("instagram.private_reply.store_unavailable error=%s", type(error).__name__)
            status = ReplyStatus.ERROR
        PRIVATE_REPLIES.labels(outcome=status.value).inc()
        if status is not ReplyStatus.SENT:
            logger.info("instagram.private_reply.skipped outcome=%s", status.value)
        return status

    async def _send(self, comment: CommentRecord, text: str) -> ReplyStatus:
        settings = self._settings
        covered = settings.private_reply_media
        if not settings.private_replies_enabled or (covered and comment.media_id not in covered):
            return ReplyStatus.DISABLED
        if self._clock() - comment.created_time > REPLY_WINDOW_SECONDS:
            return ReplyStatus.EXPIRED
        if comment.live:
            try:
                if not await self.live.running(comment.account_id, comment.media_id):
                    return ReplyStatus.NOT_LIVE
            except GraphApiError:
                return ReplyStatus.ERROR  # logged by the client, codes only
        claim = f"reply:{comment.comment_id}"
        if not await self._store.claim(claim, CLAIM_TTL_SECONDS):
            return ReplyStatus.DUPLICATE
        if not await self._store.take_slot(settings.private_replies_per_hour, HOUR_SECONDS):
            await self._store.release(claim)  # not replied: the desk may ask again later
            return ReplyStatus.OVER_CAP
        try:
            await self._client.send_private_reply(comment.account_id, comment.comment_id, text)
        except GraphApiError:
            return ReplyStatus.ERROR
        return ReplyStatus.SENT
