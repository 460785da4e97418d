"""One sender's burst against everyone else: fair use on the REST channel (issue 15).

Measures, on the careers assistant over REST: the single-applicant p50 (one applicant, one
message at a time, nothing else running), then another applicant's p50/p95 while one sender
fires a burst of 200 concurrent messages, and what the burst got back (answered, told to
slow down, refused). `python -m bench.fair_use` runs it alone.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import aiohttp

from bench.load import median
from scripts.stack import ROOT, Stack, free_port

MODEL = ROOT / "models" / "careers.tar.gz"
BURST = 200
SINGLE_MESSAGES = 15  # each, under the default fair-use limit of 20 a minute
SINGLE_APPLICANTS = 4  # one after another
OTHERS = 4  # other applicants during the burst, each sending in turn
OTHER_MESSAGES = 5
QUESTIONS = [
    "how long does vetting take?",
    "can I apply if I have dual nationality?",
    "what jobs do you have in technology?",
    "do I need a degree?",
    "hello",
]


@dataclass
class FairUse:
    single_p50_ms: float
    other_p50_ms: float
    other_p95_ms: float
    burst_seconds: float
    burst_outcomes: Dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _timed(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as reply:
        await reply.read()
    return (time.perf_counter() - started) * 1000


async def _burst_one(session: aiohttp.ClientSession, url: str, sender: str, i: int) -> str:
    try:
        async with session.post(url, json={"sender": sender, "message": f"hello {i}"}) as reply:
            body = await reply.text()
            if reply.status == 200 and "faster than I can answer" in body:
                return "slow down"
            return {200: "answered", 429: "refused (429)"}.get(reply.status, f"{reply.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return "timed out"


async def measure_fair_use(base_url: str) -> FairUse:
    """Single-applicant p50, then another applicant's p50/p95 during a 200-message burst."""
    url = f"{base_url}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:
        await _timed(session, url, f"bench-warm-{uuid.uuid4().hex[:8]}", "hello")
        alone = [
            await _timed(session, url, f"bench-single-{applicant}", QUESTIONS[i % len(QUESTIONS)])
            for applicant in range(SINGLE_APPLICANTS)
            for i in range(SINGLE_MESSAGES)
        ]
        flooder = f"bench-burst-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        burst = [asyncio.ensure_future(_burst_one(session, url, flooder, i)) for i in range(BURST)]
        await asyncio.sleep(0.2)  # the burst is in flight
        during: List[float] = []
        for round_number in range(OTHER_MESSAGES):
            for other in range(OTHERS):
                sender = f"bench-other-{other}-{flooder}"
                text = QUESTIONS[(round_number + other) % len(QUESTIONS)]
                during.append(await _timed(session, url, sender, text))
        outcomes = Counter(await asyncio.gather(*burst))
        burst_seconds = time.perf_counter() - started
    return FairUse(
        single_p50_ms=median(alone),
        other_p50_ms=median(during),
        other_p95_ms=percentile(during, 95),
        burst_seconds=burst_seconds,
        burst_outcomes=dict(outcomes),
    )


def measure_on_own_stack() -> FairUse:
    with tempfile.TemporaryDirectory() as tmp:
        action_port = free_port()
        endpoints = Path(tmp) / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://localhost:{action_port}/webhook"\n'
            "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
            f'  dialect: sqlite\n  db: "{tmp}/tracker.db"\n'
        )
        with open(Path(tmp) / "log", "wb") as log, Stack(
            rasa_port=free_port(), action_port=action_port, desk_port=free_port(), token="bench",
            endpoints=endpoints, model=MODEL, log=log,
            env={"DESK_DATABASE_URL": f"sqlite:///{tmp}/desk.db"},
        ) as stack:  # fmt: skip
            return asyncio.run(measure_fair_use(stack.url))


def run() -> str:
    """The Markdown section for BENCHMARKS.md."""
    found = measure_on_own_stack()
    outcomes = ", ".join(f"{count} {name}" for name, count in sorted(found.burst_outcomes.items()))
    return "\n".join(
        [
            "## Fair use: one sender's burst",
            "",
            f"One sender fires {BURST} concurrent REST messages while {OTHERS} other applicants "
            f"send {OTHER_MESSAGES} questions each, one at a time (channels/limits.py: 20 "
            'messages a minute per sender, then one "slow down" reply, then 429).',
            "",
            "| measure | ms |",
            "| --- | ---: |",
            f"| single applicant p50, nothing else running | {found.single_p50_ms:.1f} |",
            f"| another applicant p50 during the burst | {found.other_p50_ms:.1f} |",
            f"| another applicant p95 during the burst | {found.other_p95_ms:.1f} |",
            "",
            f"The burst got: {outcomes}; it was over in {found.burst_seconds:.1f} s.",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
