"""A/B latency and throughput: several checkouts' servers loaded in turn, in one run.

This machine's speed moves by a fifth between runs, so a change is measured against the code
and model it replaces in the same session: each checkout (a clone or `git worktree` with its
own trained models/careers.tar.gz) starts its stack exactly as its own `make bench` does
(its `bench.__main__.ours`), all stay up together, and each round loads every server in
turn. The medians over the rounds are reported.

    python -m bench.ab before=/work/base after=. --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

from bench.load import LoadResult, median, run_load
from evaluation.heldout import load_examples
from scripts.stack import quiet_env

# Run in each checkout with its own interpreter and modules: its own benchmark's stack, held
# up until this process closes the pipe (its `measure` only says where the server is).
SERVE = """
import sys
import bench.__main__ as bench

def hold(url, texts, pid, rounds):
    print(url, flush=True)
    sys.stdin.read()
    return {}

bench.measure = hold
bench.ours(1)
"""


@dataclass
class Server:
    label: str
    process: subprocess.Popen
    url: str


def start(label: str, checkout: Path) -> Server:
    process = subprocess.Popen(
        [str(checkout / ".venv" / "bin" / "python"), "-c", SERVE],
        cwd=checkout,
        env={**quiet_env(), "PYTHONPATH": str(checkout)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"{label}: the stack in {checkout} did not start")
    return Server(label, process, url)


def stop(server: Server) -> None:
    assert server.process.stdin is not None
    server.process.stdin.close()
    try:
        server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.process.kill()


def load(url: str, texts: Sequence[str], applicants: int, each: int) -> LoadResult:
    return asyncio.run(run_load(url, texts, applicants, each))


def run(checkouts: Dict[str, Path], rounds: int, single: int, busy: int, each: int) -> str:
    texts = [text for text, _ in load_examples()]
    servers: List[Server] = []
    p50: Dict[str, List[float]] = {label: [] for label in checkouts}
    rate: Dict[str, List[float]] = {label: [] for label in checkouts}
    try:
        for label, checkout in checkouts.items():
            servers.append(start(label, checkout))
        for round_number in range(rounds):
            # Alternate the order, so no server always goes first after a pause.
            ordered = servers if round_number % 2 == 0 else servers[::-1]
            for server in ordered:
                p50[server.label].append(load(server.url, texts, 1, single).percentile(50))
                rate[server.label].append(load(server.url, texts, busy, each).throughput)
            print(f"round {round_number + 1}: " + ", ".join(
                f"{s.label} {p50[s.label][-1]:.1f} ms {rate[s.label][-1]:.1f}/s" for s in servers
            ), flush=True)  # fmt: skip
    finally:
        for server in servers:
            stop(server)
    lines = [
        f"| server | 1 applicant p50 ms | {busy} applicants messages/s |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {median(p50[label]):.1f} | {median(rate[label]):.1f} |" for label in checkouts
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkouts", nargs="+", help="label=path of a checkout with a model")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--single", type=int, default=60, help="messages, 1 applicant")
    parser.add_argument("--busy", type=int, default=20, help="concurrent applicants")
    parser.add_argument("--each", type=int, default=15, help="messages each when busy")
    args = parser.parse_args()
    checkouts = {}
    for item in args.checkouts:
        label, _, path = item.partition("=")
        checkouts[label] = Path(os.path.abspath(path))
    print(run(checkouts, args.rounds, args.single, args.busy, args.each))


if __name__ == "__main__":
    main()
