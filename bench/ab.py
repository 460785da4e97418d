"""A/B latency and throughput: several checkouts' servers loaded in turn, in one run.

This machine's speed moves by a fifth between runs, so a change is measured against the code
and model it replaces in the same session: each checkout (a clone or `git worktree` with its
own trained models/careers.tar.gz) starts its stack exactly as its own `make bench` does
(its `bench.__main__.ours`), all stay up together, and each round loads every server in
turn. The medians over the rounds are reported, with the Rasa server's CPU time per message
(one applicant), which moves less than latency when other work shares the machine.

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
    print(url, pid, flush=True)
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
    # The Rasa server's process id, for the CPU time it spends per message.
    pid: int


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
    url, _, pid = process.stdout.readline().strip().partition(" ")
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"{label}: the stack in {checkout} did not start")
    return Server(label, process, url, int(pid))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far: it moves less than latency when other
    work shares the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(server: Server) -> None:
    assert server.process.stdin is not None
    server.process.stdin.close()
    try:
        server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.process.kill()


def load(server: Server, texts: Sequence[str], applicants: int, each: int) -> LoadResult:
    return asyncio.run(run_load(server.url, texts, applicants, each))


def cpu_ms_per_message(server: Server, texts: Sequence[str], applicants: int, each: int) -> float:
    load(server, texts, 1, 5)  # warm
    started = cpu_seconds(server.pid)
    result = load(server, texts, applicants, each)
    return (cpu_seconds(server.pid) - started) * 1000 / result.messages


def run(checkouts: Dict[str, Path], rounds: int, single: int, busy: int, each: int) -> str:
    texts = [text for text, _ in load_examples()]
    servers: List[Server] = []
    figures: Dict[str, Dict[str, List[float]]] = {
        label: {"p50": [], "rate": [], "cpu": []} for label in checkouts
    }
    try:
        for label, checkout in checkouts.items():
            servers.append(start(label, checkout))
        for round_number in range(rounds):
            # Alternate the order, so no server always goes first after a pause.
            ordered = servers if round_number % 2 == 0 else servers[::-1]
            for server in ordered:
                mine = figures[server.label]
                mine["p50"].append(load(server, texts, 1, single).percentile(50))
                mine["rate"].append(load(server, texts, busy, each).throughput)
                mine["cpu"].append(cpu_ms_per_message(server, texts, 1, single))
            print(f"round {round_number + 1}: " + ", ".join(
                f"{label} {f['p50'][-1]:.1f} ms {f['rate'][-1]:.1f}/s {f['cpu'][-1]:.2f} cpu ms"
                for label, f in figures.items()
            ), flush=True)  # fmt: skip
    finally:
        for server in servers:
            stop(server)
    lines = [
        f"| server | 1 applicant p50 ms | {busy} applicants messages/s | server CPU ms/message |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {median(f['p50']):.1f} | {median(f['rate']):.1f} | {median(f['cpu']):.2f} |"
        for label, f in figures.items()
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
