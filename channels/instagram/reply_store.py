"""What the private-reply rules must share across replicas: claims, the hourly cap, comments.

- ``claim(key, ttl)``: true for exactly one caller per key within the TTL (one private
  reply per comment id; one story-mention thank-you per sender a day).
- ``take_slot(cap, window)``: a sliding-window counter of private replies, true while
  fewer than ``cap`` were taken in the last ``window`` seconds, so no hour ever holds
  more than the cap, whichever replica sent them.
- ``remember``/``recall``: a forwarded comment's media, time and kind, so a reply the desk
  asks for later obeys the same rules. No text, username or commenter id is kept.

One process (``make run``) keeps them in memory; with REDIS_HOST set they live in the
Redis the message-id dedup uses (channels/instagram/dedup.py), under the same key prefix.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Callable, Deque, Dict, Protocol, Tuple

from redis.exceptions import RedisError

from channels.instagram.dedup import DedupUnavailable
from channels.instagram.settings import InstagramSettings

Record = Dict[str, Any]
MAX_ENTRIES = 200_000

# Remove slots older than the window, then take one if fewer than the cap remain.
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
return 1
"""


class ReplyStore(Protocol):
    async def claim(self, key: str, ttl_seconds: float) -> bool: ...

    async def release(self, key: str) -> None: ...

    async def take_slot(self, cap: int, window_seconds: float) -> bool: ...

    async def remember(self, comment_id: str, record: Record, ttl_seconds: float) -> None: ...

    async def recall(self, comment_id: str) -> Record | None: ...


class InMemoryReplyStore:
    """One process's store; entries expire lazily and the oldest go first past the cap."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._claims: OrderedDict[str, float] = OrderedDict()
        self._records: OrderedDict[str, Tuple[float, Record]] = OrderedDict()
        self._slots: Deque[float] = deque()

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        expires = self._claims.get(key)
        if expires is not None and expires > now:
            return False
        self._claims[key] = now + ttl_seconds
        self._claims.move_to_end(key)
        _trim(self._claims)
        return True

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)

    async def take_slot(self, cap: int, window_seconds: float) -> bool:
        now = self._clock()
        while self._slots and self._slots[0] <= now - window_seconds:
            self._slots.popleft()
        if len(self._slots) >= cap:
            return False
        self._slots.append(now)
        return True

    async def remember(self, comment_id: str, record: Record, ttl_seconds: float) -> None:
        self._records[comment_id] = (self._clock() + ttl_seconds, dict(record))
        self._records.move_to_end(comment_id)
        _trim(self._records)

    async def recall(self, comment_id: str) -> Record | None:
        found = self._records.get(comment_id)
        if found is None or found[0] <= self._clock():
            return None
        return dict(found[1])


class RedisReplyStore:
    """The same operations as single atomic Redis commands (SET NX PX, a Lua script)."""

    def __init__(self, client: Any, key_prefix: str = "careers") -> None:
        self._client = client  # a redis.asyncio.Redis
        self._prefix = f"{key_prefix}:instagram:"
        self._take_slot = client.register_script(_TAKE_SLOT)

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return bool(
            await self._call(self._client.set(self._key("claim", key), 1, nx=True, px=ttl_ms))
        )

    async def release(self, key: str) -> None:
        await self._call(self._client.delete(self._key("claim", key)))

    async def take_slot(self, cap: int, window_seconds: float) -> bool:
        now, member = time.time(), uuid.uuid4().hex
        args = [f"{now:.6f}", f"{window_seconds}", str(cap), member]
        return bool(await self._call(self._take_slot(keys=[self._key("slots", "hour")], args=args)))

    async def remember(self, comment_id: str, record: Record, ttl_seconds: float) -> None:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        await self._call(
            self._client.set(self._key("comment", comment_id), json.dumps(record), px=ttl_ms)
        )

    async def recall(self, comment_id: str) -> Record | None:
        raw = await self._call(self._client.get(self._key("comment", comment_id)))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    @staticmethod
    async def _call(command: Any) -> Any:
        try:
            return await command
        except (RedisError, OSError) as error:
            raise DedupUnavailable(
                f"the private-reply store (Redis) cannot be reached: {error!r}"
            ) from error


def reply_store(settings: InstagramSettings) -> ReplyStore:
    """The shared Redis store when one is configured, else this process's own."""
    if not settings.dedup_redis_url:
        return InMemoryReplyStore()
    import redis.asyncio

    client = redis.asyncio.from_url(
        settings.dedup_redis_url, socket_timeout=5, socket_connect_timeout=5
    )
    return RedisReplyStore(client, settings.dedup_key_prefix)


def _trim(entries: OrderedDict) -> None:
    while len(entries) > MAX_ENTRIES:
        entries.popitem(last=False)
