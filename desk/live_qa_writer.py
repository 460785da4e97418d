"""Live comments stored in batches: while one batch is being written, the next collects.

During a burst (a live broadcast's comments) each commit is a wait for the disk; writing
every comment that arrived meanwhile in one transaction keeps the wait per batch, not per
comment, so the board stays a few seconds behind at most. Each intake request still gets
its own answer (stored or duplicate) once its batch is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Callable, List, Tuple

from desk.live_qa_store import LiveQaStore, NewQuestion, Stored

MAX_BATCH = 200

Waiting = Tuple[NewQuestion, float, "asyncio.Future[Stored]"]


class BatchWriter:
    def __init__(self, store: LiveQaStore, run_in_thread: Callable[..., Any]) -> None:
        self.store = store
        self.run_in_thread = run_in_thread
        self.queue: asyncio.Queue[Waiting] | None = None
        self.task: asyncio.Task | None = None

    async def add(self, new: NewQuestion, now: float) -> Stored:
        loop = asyncio.get_running_loop()
        if self.queue is None or self.task is None or self.task.done():
            self.queue = asyncio.Queue()
            self.task = loop.create_task(self._write())
        stored: asyncio.Future[Stored] = loop.create_future()
        await self.queue.put((new, now, stored))
        return await stored

    async def _write(self) -> None:
        queue = self.queue
        assert queue is not None
        while True:
            batch: List[Waiting] = [await queue.get()]
            while not queue.empty() and len(batch) < MAX_BATCH:
                batch.append(queue.get_nowait())
            try:
                results = await self.run_in_thread(
                    self.store.add_many, [(new, now) for new, now, _ in batch]
                )
            except Exception as error:  # each request answers 500; the writer goes on
                for _, _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(error)
                continue
            for (_, _, waiting), result in zip(batch, results, strict=True):
                if not waiting.done():
                    waiting.set_result(result)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
