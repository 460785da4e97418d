"""The Instagram channel's benchmark: how fast Meta gets its 200, and applicants their reply.

Starts the real Rasa server and action server with the Instagram channel, pointed at a
local stand-in for the Graph API, then sends signed deliveries built from the held-out
questions: bursts of 100 concurrent deliveries from 100 applicants (acknowledgement
latency, and the time from each delivery to its reply reaching the stand-in), and one
applicant at a time (the reply time without queueing). ``run()`` returns the Markdown
section for BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import aiohttp

from bench.load import median
from evaluation.heldout import load_examples
from scripts.stack import ROOT
from tests.support.graph_api_stand_in import GraphApiStandIn
from tests.support.instagram_deliveries import Deliveries, encode, new_sender, signed_headers
from tests.support.instagram_stack import Secrets, rasa_with_instagram

BURST = 100
SEQUENTIAL = 30
ACK_TARGET_P99_MS = 50.0
REPLY_TIMEOUT_S = 600.0
# A burst arrives at a server that has finished its previous work; an applicant takes a
# moment before their next message (the benchmark client would otherwise fire it the
# instant the reply lands, while Rasa is still finishing that turn).
SETTLE_S = 3.0
THINK_S = 0.2
FALLBACK_TEXTS = [
    "can i apply if im not british",
    "how long does the vetting take",
    "what jobs do you have in tech",
    "do you pay well",
    "can i work from home",
    "whats the application process like",
]


@dataclass
class Sample:
    ack_ms: List[float] = field(default_factory=list)
    reply_ms: List[float] = field(default_factory=list)
    errors: int = 0
    missing_replies: int = 0
    seconds: float = 0.0


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def questions() -> List[str]:
    try:
        texts = [text for text, _ in load_examples()]
    except Exception:  # the held-out set is optional for this measurement
        texts = []
    return texts or FALLBACK_TEXTS


class Bench:
    def __init__(self, url: str, graph: GraphApiStandIn, keys: Secrets, texts: List[str]):
        self.url = url
        self.graph = graph
        self.keys = keys
        self.texts = texts
        self.deliveries = Deliveries()
        self.offset = 0

    def _prepare(self, count: int) -> List[tuple]:
        """(sender, body, headers) for ``count`` new applicants, signed before timing."""
        prepared = []
        for _ in range(count):
            sender = new_sender()
            text = self.texts[self.offset % len(self.texts)]
            self.offset += 7
            body = encode(self.deliveries.delivery(self.deliveries.text(sender, text)))
            prepared.append((sender, body, signed_headers(self.keys.app_secret, body)))
        return prepared

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, headers: Dict[str, str]
    ) -> tuple:
        started = time.perf_counter()
        try:
            async with session.post(self.url, data=body, headers=headers) as response:
                await response.read()
                ok = response.status == 200
        except aiohttp.ClientError:
            ok = False
        return started, (time.perf_counter() - started) * 1000, ok

    def _reply_ms(self, sender: str, started: float, timeout: float) -> float | None:
        if not self.graph.wait_for(lambda: bool(self.graph.sent_to(sender)), timeout):
            return None
        return (self.graph.sent_to(sender)[0].at - started) * 1000

    async def burst(self, count: int = BURST) -> Sample:
        prepared = self._prepare(count)
        await asyncio.sleep(SETTLE_S)
        connector = aiohttp.TCPConnector(limit=count)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            results = await asyncio.gather(
                *(self._post(session, body, headers) for _, body, headers in prepared)
            )
        sample = Sample()
        first = min(started for started, _, _ in results)
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        for (sender, _, _), (started, ack_ms, ok) in zip(prepared, results, strict=True):
            sample.ack_ms.append(ack_ms)
            sample.errors += not ok
            reply = self._reply_ms(sender, started, max(1.0, deadline - time.monotonic()))
            if reply is None:
                sample.missing_replies += 1
            else:
                sample.reply_ms.append(reply)
        last = max((self.graph.sent_to(s)[0].at for s, _, _ in prepared if self.graph.sent_to(s)),
                   default=first)  # fmt: skip
        sample.seconds = last - first
        return sample

    async def one_at_a_time(self, count: int = SEQUENTIAL) -> Sample:
        sample = Sample()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            for sender, body, headers in self._prepare(count):
                await asyncio.sleep(THINK_S)
                started, ack_ms, ok = await self._post(session, body, headers)
                sample.ack_ms.append(ack_ms)
                sample.errors += not ok
                reply = await asyncio.get_running_loop().run_in_executor(
                    None, self._reply_ms, sender, started, 60.0
                )
                if reply is None:
                    sample.missing_replies += 1
                else:
                    sample.reply_ms.append(reply)
        return sample


def run(model: Path | None = None, rounds: int = 3) -> str:
    """Measure, and return the Markdown section for BENCHMARKS.md."""
    model = model or Path(os.environ.get("CAREERS_MODEL", ROOT / "models" / "careers.tar.gz"))
    keys = Secrets()
    with GraphApiStandIn(access_token=keys.access_token) as graph, tempfile.TemporaryDirectory(
        prefix="careers-instagram-bench-"
    ) as tmp, rasa_with_instagram(model, graph.url, keys, Path(tmp)) as server:  # fmt: skip
        bench = Bench(f"{server.url}/webhooks/instagram/webhook", graph, keys, questions())
        # Warm-up, not measured: lazily loaded parts of the model, and the first burst's
        # one-off costs in this process's HTTP client.
        asyncio.run(bench.one_at_a_time(10))
        asyncio.run(bench.burst())
        bursts = [asyncio.run(bench.burst()) for _ in range(rounds)]
        single = asyncio.run(bench.one_at_a_time())
    return report(bursts, single, rounds)


def report(bursts: List[Sample], single: Sample, rounds: int) -> str:
    def med(samples: List[Sample], attr: str, p: float) -> float:
        return median([percentile(getattr(s, attr), p) for s in samples])

    ack = {p: med(bursts, "ack_ms", p) for p in (50, 95, 99)}
    reply = {p: med(bursts, "reply_ms", p) for p in (50, 95, 99)}
    alone = {p: percentile(single.reply_ms, p) for p in (50, 95)}
    alone_ack = {p: percentile(single.ack_ms, p) for p in (50, 95, 99)}
    throughput = median([BURST / s.seconds for s in bursts if s.seconds > 0] or [float("nan")])
    errors = sum(s.errors for s in bursts) + single.errors
    missing = sum(s.missing_replies for s in bursts) + single.missing_replies
    met = "met" if ack[99] <= ACK_TARGET_P99_MS else "NOT met"
    lines = [
        "## Instagram channel (signed webhook in, Send API out)",
        "",
        f"The real Rasa server with the Instagram channel, against a local stand-in for the "
        f"Graph API; {platform.machine()}, {os.cpu_count()} cores, shared machine. "
        f"After a warm-up, {rounds} bursts of {BURST} concurrent signed deliveries from "
        f"{BURST} applicants, "
        f"each sent {SETTLE_S:.0f} s after the previous burst was answered (medians of the "
        f"bursts' percentiles); then {SEQUENTIAL} deliveries one at a time, {THINK_S:.1f} s "
        "after the previous reply. Reply time runs from sending the delivery to the first "
        "reply reaching the stand-in.",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | target |",
        "| --- | --- | --- | --- | --- |",
        f"| webhook acknowledgement, {BURST} concurrent deliveries | {ack[50]:.1f} | "
        f"{ack[95]:.1f} | {ack[99]:.1f} | p99 <= {ACK_TARGET_P99_MS:.0f} ms |",
        f"| webhook acknowledgement, one at a time | {alone_ack[50]:.1f} | {alone_ack[95]:.1f} | "
        f"{alone_ack[99]:.1f} | |",
        f"| delivery to reply, {BURST} concurrent deliveries | {reply[50]:.0f} | "
        f"{reply[95]:.0f} | {reply[99]:.0f} | reported |",
        f"| delivery to reply, one at a time | {alone[50]:.0f} | {alone[95]:.0f} | | reported |",
        "",
        f"- Acknowledgement p99 under {BURST} concurrent deliveries: {ack[99]:.1f} ms "
        f"(target <= {ACK_TARGET_P99_MS:.0f} ms: {met}).",
        f"- A burst of {BURST} applicants is fully answered at {throughput:.1f} messages/s.",
        f"- Failed acknowledgements: {errors}; deliveries without a reply: {missing}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
