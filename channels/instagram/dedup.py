"""Message ids already answered, so a redelivered webhook is not answered twice.

Meta redelivers a webhook it thinks failed, for up to 36 hours. The channel asks the
store once per message id; only the first sighting is answered. The in-process store
serves one Rasa server (`make run`); when REDIS_HOST is set (production, several servers
sharing the traffic) the Redis store takes its place behind the same one-method interface.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Protocol

from redis.exceptions import RedisError

from channels.instagram.settings import InstagramSettings


class SeenMessageIds(Protocol):
    async def first_sighting(self, message_id: str) -> bool:
        """True the first time ``message_id`` is offered within the TTL, else False."""
        ...


class InMemorySeenMessageIds:
    """A TTL set in insertion order, so expiry and the size cap cost O(1) per call."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    async def first_sighting(self, message_id: str) -> bool:
        now = self._clock()
        self._expire(now)
        if message_id in self._expiry:
            return False
        self._expiry[message_id] = now + self._ttl
        while len(self._expiry) > self._max_entries:
            self._expiry.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _expire(self, now: float) -> None:
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now:
                return
            del self._expiry[oldest]


class DedupUnavailable(RuntimeError):
    """The shared store cannot say whether a message is new; the delivery must be retried."""


class RedisSeenMessageIds:
    """``SET <prefix><id> 1 NX PX ttl``: one atomic command, so of several servers offered
    the same message id exactly one is told it is the first sighting."""

    def __init__(self, client: Any, ttl_seconds: float, key_prefix: str = "careers") -> None:
        self._client = client  # a redis.asyncio.Redis
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._prefix = f"{key_prefix}:instagram:seen:"

    async def first_sighting(self, message_id: str) -> bool:
        try:
            created = await self._client.set(self._prefix + message_id, 1, nx=True, px=self._ttl_ms)
        except (RedisError, OSError) as error:
            raise DedupUnavailable(
                f"the message-id store (Redis) cannot be reached: {error!r}"
            ) from error
        return bool(created)


def seen_message_ids(settings: InstagramSettings) -> SeenMessageIds:
    """The shared Redis store when one is configured, else this process's own."""
    if not settings.dedup_redis_url:
        return InMemorySeenMessageIds(settings.dedup_ttl_seconds, settings.dedup_max_entries)
    import redis.asyncio

    client = redis.asyncio.from_url(
        settings.dedup_redis_url, socket_timeout=5, socket_connect_timeout=5
    )
    return RedisSeenMessageIds(client, settings.dedup_ttl_seconds, settings.dedup_key_prefix)
