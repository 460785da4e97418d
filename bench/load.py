"""A small load generator for Rasa's REST channel: latency percentiles and throughput."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import aiohttp


@dataclass
class LoadResult:
    applicants: int
    messages: int
    errors: int
    seconds: float
    latencies_ms: List[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def throughput(self) -> float:
        return self.messages / self.seconds


async def _applicant(
    session: aiohttp.ClientSession, url: str, texts: Sequence[str], latencies: List[float]
) -> int:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    errors = 0
    for text in texts:
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                await reply.read()
                errors += reply.status != 200
        except aiohttp.ClientError:
            errors += 1
        latencies.append((time.perf_counter() - started) * 1000)
    return errors


async def run_load(
    base_url: str, texts: Sequence[str], applicants: int, messages_each: int
) -> LoadResult:
    url = f"{base_url}/webhooks/rest/webhook"
    latencies: List[float] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # Warm up: the first messages load lazily initialised parts of the model.
        await _applicant(session, url, texts[:5], [])
        started = time.perf_counter()
        plans = [
            [texts[(a * 7 + i) % len(texts)] for i in range(messages_each)]
            for a in range(applicants)
        ]
        errors = await asyncio.gather(*(_applicant(session, url, p, latencies) for p in plans))
        seconds = time.perf_counter() - started
    return LoadResult(applicants, len(latencies), sum(errors), seconds, latencies)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
