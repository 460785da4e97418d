"""Run the benchmarks and write BENCHMARKS.md.

Measures, in one run on this machine: understanding on every evaluation set; REST latency
and throughput for 1 and 20 concurrent applicants and the Rasa server's memory, for this
assistant and for a stock `rasa init` assistant, and the ratio between them. Each load is
run several times and the median reported, because these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

from bench import understanding
from bench.load import LoadResult, median, rss_mb, run_load
from evaluation.heldout import load_examples
from scripts.stack import BIN, ROOT, Stack, action_endpoint_yaml, free_port, quiet_env

MODEL = ROOT / "models" / "careers.tar.gz"
STOCK_TEXTS = ["hello", "I am sad", "yes", "no", "goodbye", "are you a bot?", "great", "hi"]
LOADS = [(1, 100), (20, 20)]  # (concurrent applicants, messages each)


def summarise(runs: List[LoadResult]) -> Dict[str, float]:
    return {
        "p50": median([r.percentile(50) for r in runs]),
        "p95": median([r.percentile(95) for r in runs]),
        "p99": median([r.percentile(99) for r in runs]),
        "throughput": median([r.throughput for r in runs]),
        "errors": sum(r.errors for r in runs),
        "messages": sum(r.messages for r in runs),
    }


def measure(url: str, texts: Sequence[str], pid: int, rounds: int) -> Dict[str, object]:
    figures: Dict[str, object] = {}
    for applicants, each in LOADS:
        runs = [asyncio.run(run_load(url, texts, applicants, each)) for _ in range(rounds)]
        figures[f"{applicants}"] = summarise(runs)
    figures["rss_mb"] = rss_mb(pid)
    return figures


def ours(rounds: int) -> Dict[str, object]:
    texts = [text for text, _ in load_examples()]
    with tempfile.TemporaryDirectory() as tmp:
        action_port = free_port()
        endpoints = Path(tmp) / "endpoints.yml"
        endpoints.write_text(
            action_endpoint_yaml(action_port)
            # The tracker store `make run` uses (endpoints.yml), on a database of its own.
            + "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
            f'  dialect: sqlite\n  db: "{tmp}/tracker.db"\n'
        )
        with open(Path(tmp) / "log", "wb") as log, Stack(
            rasa_port=free_port(), action_port=action_port, desk_port=free_port(), token="bench",
            endpoints=endpoints, model=MODEL, log=log,
            # Throughput loads measure the model, not fair use: no per-sender limit.
            env={"CHANNEL_MESSAGES_PER_WINDOW": "1000000",
                 "DESK_DATABASE_URL": f"sqlite:///{tmp}/tracker.db"},
        ) as stack:  # fmt: skip
            return measure(stack.url, texts, stack.processes[1].pid, rounds)


def stock(rounds: int) -> Dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = quiet_env()
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", tmp],
            cwd=tmp, env=env, check=True, capture_output=True,
        )  # fmt: skip
        port = free_port()
        with open(Path(tmp) / "log", "wb") as log:
            server = subprocess.Popen(
                [str(BIN / "rasa"), "run", "--port", str(port), "--model", f"{tmp}/models"],
                cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                _wait_for(f"http://localhost:{port}/webhooks/rest/", server)
                return measure(f"http://localhost:{port}", STOCK_TEXTS, server.pid, rounds)
            finally:
                server.terminate()
                server.wait(30)


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stock server exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


def write_report(understood: str, mine: Dict, theirs: Dict, rounds: int) -> str:
    def row(name: str, figures: Dict, load: str) -> str:
        f = figures[load]
        return (
            f"| {name} | {load} | {f['p50']:.0f} | {f['p95']:.0f} | {f['p99']:.0f} | "
            f"{f['throughput']:.1f} | {f['errors']}/{f['messages']} |"
        )

    ratio_1 = theirs["1"]["p50"] / mine["1"]["p50"]
    ratio_20 = mine["20"]["throughput"] / theirs["20"]["throughput"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {dt.date.today():%d %B %Y}, {platform.machine()}, "
        f"{os.cpu_count()} cores, shared machine. Each load ran {rounds} times; "
        "the medians are shown. Latency is one REST round trip (message in, all replies out).",
        "",
        understood,
        "",
        "## REST latency and throughput",
        "",
        "| assistant | concurrent applicants | p50 ms | p95 ms | p99 ms | messages/s | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row("careers assistant", mine, "1"),
        row("careers assistant", mine, "20"),
        row("stock `rasa init`", theirs, "1"),
        row("stock `rasa init`", theirs, "20"),
        "",
        f"- Single-applicant p50: {mine['1']['p50']:.0f} ms (target <= 40 ms); "
        f"the stock assistant's is {ratio_1:.2f}x ours.",
        f"- Throughput at 20 applicants: {ratio_20:.2f}x the stock assistant's (target >= 3x).",
        f"- Rasa server memory (RSS) after the load: {mine['rss_mb']:.0f} MB "
        f"(stock: {theirs['rss_mb']:.0f} MB).",
        "",
    ]
    return "\n".join(lines)


def extra_sections() -> List[Tuple[str, Callable[[], str]]]:
    """Benchmarks of the other parts of the assistant, each a Markdown section."""
    from bench import (
        fair_use,
        insights,
        instagram,
        instagram_comments,
        live_qa,
        production,
        training,
        vacancies,
    )

    return [
        ("Retraining", training.run),
        ("Vacancy search", vacancies.run),
        ("Instagram channel", instagram.run),
        ("Instagram comments: a live Q&A burst", instagram_comments.run),
        ("Fair use: one sender's burst", fair_use.run),
        ("Production set-up (PostgreSQL, Redis, two replicas)", production.run),
        ("Insights (a year of traffic on PostgreSQL)", insights.run),
        ("Live Q&A board (a burst of live comments)", live_qa.run),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("Understanding on the evaluation sets...", flush=True)
    understood = understanding.section(MODEL)
    print("Load on the careers assistant...", flush=True)
    mine = ours(args.rounds)
    print("Load on a stock `rasa init` assistant (trains it first)...", flush=True)
    theirs = stock(args.rounds)
    text = write_report(understood, mine, theirs, args.rounds)
    for name, section in extra_sections():
        print(f"{name}...", flush=True)
        text += "\n" + section()
    (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
