"""Message ids already answered, so a redelivered webhook is not answered twice.

Meta redelivers a webhook it thinks failed, for up to 36 hours. The channel asks the
store once per message id; only the first sighting is answered. The in-process store
here serves one Rasa server; a Redis store (``SET key 1 NX EX ttl``) can replace it
behind the same one-method interface when several servers share the traffic.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Protocol


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
