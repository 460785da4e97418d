"""Background work, one queue per sender: in order for each sender, in parallel across them.

The webhook acknowledges Meta at once and hands each message to its sender's queue. A
sender's messages are processed strictly one after another, in the order they were
queued, so replies come back in the order the questions were asked; different senders
do not wait for each other. A queue and its worker exist only while work is pending.

Rasa runs the model synchronously on the event loop: while it works, no webhook can be
acknowledged. So a job starts only once no webhook request is in flight and none has
arrived for a moment (``AckFirst``, longer during a burst); a cap on that wait keeps
work moving under sustained traffic. At most ``max_active`` senders are processed at
once: Rasa cannot use more than one core anyway, and fewer turns in flight means fewer
model steps queued ahead of an arriving webhook, while still overlapping the waits for
the Graph API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Awaitable, Callable, Deque, Dict, Set

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class AckFirst:
    """Tells background work to wait while webhook requests are being acknowledged.

    Model work may start once no request is in flight and none has arrived for a short
    quiet period: 5 ms normally, so a lone message is hardly delayed, and 50 ms while
    requests are arriving close together, so a burst is acknowledged before one model
    step (tens of milliseconds, during which nothing else runs) gets in its way.
    """

    def __init__(
        self,
        quiet_seconds: float = 0.005,
        burst_quiet_seconds: float = 0.05,
        max_wait_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quiet = quiet_seconds
        self._burst_quiet = burst_quiet_seconds
        self._max_wait = max_wait_seconds
        self._clock = clock
        self._in_flight = 0
        self._last_activity = float("-inf")
        self._arrivals = (float("-inf"), float("-inf"))  # the last two, oldest first

    def request_started(self) -> None:
        now = self._clock()
        self._in_flight += 1
        self._last_activity = now
        self._arrivals = (self._arrivals[1], now)

    def request_finished(self) -> None:
        self._in_flight -= 1
        self._last_activity = self._clock()

    def quiet_for(self) -> float:
        """Seconds still to wait before model work may start (0 when it may start now)."""
        in_burst = self._arrivals[1] - self._arrivals[0] < self._burst_quiet
        quiet = self._burst_quiet if in_burst else self._quiet
        if self._in_flight:
            return quiet
        return max(0.0, quiet - (self._clock() - self._last_activity))

    async def wait_turn(self) -> None:
        deadline = self._clock() + self._max_wait
        while True:
            remaining = deadline - self._clock()
            wait = self.quiet_for()
            if wait <= 0 or remaining <= 0:
                return
            await asyncio.sleep(min(wait, remaining))


class SenderQueues:
    def __init__(self, gate: AckFirst | None = None, max_active: int = 8) -> None:
        self._pending: Dict[str, Deque[Job]] = {}
        self._workers: Set[asyncio.Task] = set()
        self._gate = gate
        self._max_active = max_active
        self._slots: asyncio.Semaphore | None = None  # made inside the running loop

    def submit(self, sender_id: str, job: Job) -> None:
        queue = self._pending.get(sender_id)
        if queue is not None:
            queue.append(job)
            return
        self._pending[sender_id] = deque([job])
        worker = asyncio.get_running_loop().create_task(self._work(sender_id))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    @property
    def busy_senders(self) -> int:
        return len(self._pending)

    async def drain(self, timeout: float) -> bool:
        """Wait for queued work (used at shutdown); True if everything finished."""
        if not self._workers:
            return True
        _, pending = await asyncio.wait(set(self._workers), timeout=timeout)
        return not pending

    async def _work(self, sender_id: str) -> None:
        queue = self._pending[sender_id]
        try:
            if self._slots is None:
                self._slots = asyncio.Semaphore(self._max_active)
            while queue:
                async with self._slots:
                    if self._gate is not None:
                        await self._gate.wait_turn()
                    job = queue.popleft()
                    try:
                        await job()
                    except Exception:  # one bad message must not stop the sender's queue
                        logger.exception("instagram.queue.job_failed")
        finally:
            # No await between the empty check and this, so no job can slip in unseen.
            del self._pending[sender_id]
