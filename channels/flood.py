"""Per-sender flood control for every channel: a sliding window of messages per sender.

Beyond the limit a sender gets one short "slow down" reply per window and no model or
action work at all, so one person pasting a script cannot starve everyone else. Other
senders are counted separately and are never affected.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from typing import Callable, Deque, Dict


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: send the one "slow down" reply
    DROP = "drop"  # over the limit and already warned: do nothing


class FloodControl:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._hits: Dict[str, Deque[float]] = {}
        self._warned_at: Dict[str, float] = {}
        self._last_prune = clock()

    def check(self, sender_id: str) -> Verdict:
        now = self._clock()
        self._prune(now)
        hits = self._hits.setdefault(sender_id, deque())
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) < self._limit:
            hits.append(now)
            return Verdict.ALLOW
        warned = self._warned_at.get(sender_id)
        if warned is not None and now - warned < self._window:
            return Verdict.DROP
        self._warned_at[sender_id] = now
        return Verdict.WARN

    def _prune(self, now: float) -> None:
        """Forget senders idle for a whole window, so memory follows active senders."""
        if now - self._last_prune < self._window:
            return
        self._last_prune = now
        cutoff = now - self._window
        for sender_id in [s for s, hits in self._hits.items() if not hits or hits[-1] <= cutoff]:
            del self._hits[sender_id]
        for sender_id in [s for s, at in self._warned_at.items() if at <= cutoff]:
            del self._warned_at[sender_id]
