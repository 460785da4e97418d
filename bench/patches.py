"""A/B of each speed-only patch of a private Rasa or TensorFlow API (rasa_server/__main__.py
`SPEED_ONLY`): REST throughput and p50 with every patch, and with every patch but one.

All the servers run at once on the same model and the same kind of tracker store (each its
own SQLite file), so the variants take turns inside each round: round 1 all variants, round
2 all variants, and so on (interleaved), and the medians over the rounds are compared. The
load is the benchmark's 20-applicant REST load (bench/load.py) on the held-out questions.

`python -m bench.patches [--rounds 5]` prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

from bench.load import LoadResult, median, run_load
from evaluation.heldout import load_examples
from rasa_server.__main__ import SPEED_ONLY
from scripts.stack import ROOT, Stack, action_endpoint_yaml, free_port

MODEL = ROOT / "models" / "careers.tar.gz"
APPLICANTS, MESSAGES_EACH = 20, 20
ALL = "all patches"


@dataclass
class PatchedStack(Stack):
    """The usual stack, its Rasa server started without the named speed-only patches."""

    without: Sequence[str] = ()

    def start_rasa_server(self) -> None:
        self._spawn(
            [
                sys.executable, "-m", "bench.patched_server", ",".join(self.without), "run",
                "--enable-api",
                "--port", str(self.rasa_port),
                "--model", str(self.model),
                "--endpoints", str(self.endpoints),
                "--credentials", str(self.credentials),
            ],
            extra_env={**self._secrets_env(), "RASA_TOKEN": self.token},
        )  # fmt: skip


def start(stacks: ExitStack, tmp: Path, name: str, without: Sequence[str]) -> PatchedStack:
    folder = tmp / name.replace(" ", "_")
    folder.mkdir()
    action_port = free_port()
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        action_endpoint_yaml(action_port)
        + "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
        f'  dialect: sqlite\n  db: "{folder}/tracker.db"\n'
    )
    log = stacks.enter_context(open(folder / "log", "wb"))  # noqa: SIM115 (closed by stacks)
    stack = PatchedStack(
        rasa_port=free_port(), action_port=action_port, token="bench", endpoints=endpoints,
        model=MODEL, log=log, env={"CHANNEL_MESSAGES_PER_WINDOW": "1000000"}, without=without,
    )  # fmt: skip
    stacks.enter_context(stack)
    return stack


def run(rounds: int) -> Dict[str, List[LoadResult]]:
    texts = [text for text, _ in load_examples()]
    variants = {ALL: (), **{f"without {name}": (name,) for name in SPEED_ONLY}}
    results: Dict[str, List[LoadResult]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stacks:
        servers = {name: start(stacks, Path(tmp), name, w) for name, w in variants.items()}
        for round_number in range(rounds):
            order = list(servers.items())
            if round_number % 2:
                order.reverse()  # no variant always runs first
            for name, stack in order:
                load = run_load(stack.url, texts, APPLICANTS, MESSAGES_EACH)
                results[name].append(asyncio.run(load))
                print(f"round {round_number + 1} {name}: {results[name][-1].throughput:.1f}/s")
    return results


def table(results: Dict[str, List[LoadResult]]) -> str:
    base_throughput = median([r.throughput for r in results[ALL]])
    base_p50 = median([r.percentile(50) for r in results[ALL]])
    lines = [
        "| variant | messages/s | p50 ms | the patch buys (throughput) | errors |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, runs in results.items():
        throughput = median([r.throughput for r in runs])
        p50 = median([r.percentile(50) for r in runs])
        gain = "" if name == ALL else f"{(base_throughput / throughput - 1) * 100:+.1f}%"
        errors = f"{sum(r.errors for r in runs)}/{sum(r.messages for r in runs)}"
        lines.append(f"| {name} | {throughput:.1f} | {p50:.0f} | {gain} | {errors} |")
    lines.append("")
    lines.append(f"(all patches: p50 {base_p50:.0f} ms; medians of {len(results[ALL])} rounds)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    print(table(run(parser.parse_args().rounds)))


if __name__ == "__main__":
    main()
