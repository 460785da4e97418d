"""A/B of each speed-only patch of a private Rasa or TensorFlow API (rasa_server/__main__.py
`SPEED_ONLY`): REST throughput and p50 with every patch, and with every patch but one.

All the servers run at once on the same model and the same kind of tracker store (each its
own SQLite file). In each round every patch is measured as a pair, back to back: the
server with every patch and the one without that patch (in alternating order), so the
shared machine's drifting load hits both alike; the patch's effect is the median over the
rounds of the pair's throughput ratio. The load is the benchmark's 20-applicant REST load
(bench/load.py) on the held-out questions.

`python -m bench.patches [--rounds 5]` prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

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


def start(
    stacks: ExitStack, tmp: Path, name: str, without: Sequence[str], cached: int
) -> PatchedStack:
    folder = tmp / name.replace(" ", "_")
    folder.mkdir()
    action_port = free_port()
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        action_endpoint_yaml(action_port)
        + "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
        f'  dialect: sqlite\n  db: "{folder}/tracker.db"\n'
        f"  cached_conversations: {cached}\n"
    )
    log = stacks.enter_context(open(folder / "log", "wb"))  # noqa: SIM115 (closed by stacks)
    stack = PatchedStack(
        rasa_port=free_port(), action_port=action_port, token="bench", endpoints=endpoints,
        model=MODEL, log=log, env={"CHANNEL_MESSAGES_PER_WINDOW": "1000000"}, without=without,
    )  # fmt: skip
    stacks.enter_context(stack)
    return stack


@dataclass
class Measured:
    load: LoadResult
    cpu_ms: float  # the Rasa server's CPU time (user + system) per message


Pair = Tuple[Measured, Measured]  # (every patch, every patch but one), back to back


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(rounds: int, patches: Sequence[str], cached: int) -> Dict[str, List[Pair]]:
    """`cached`: conversations the tracker store keeps in memory (0: every turn rebuilds the
    conversation from its stored events, as on a replica whose neighbour took the last turn)."""
    texts = [text for text, _ in load_examples()]
    variants = {ALL: (), **{name: (name,) for name in patches}}
    pairs: Dict[str, List[Pair]] = {name: [] for name in patches}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stacks:
        servers = {
            name: start(stacks, Path(tmp), name, without, cached)
            for name, without in variants.items()
        }

        def measure(name: str) -> Measured:
            pid = servers[name].processes[1].pid  # the action server is processes[0]
            before = cpu_seconds(pid)
            load = asyncio.run(run_load(servers[name].url, texts, APPLICANTS, MESSAGES_EACH))
            return Measured(load, (cpu_seconds(pid) - before) * 1000 / load.messages)

        for round_number in range(rounds):
            for name in patches:
                # Back to back, in alternating order: the shared machine's load drifts.
                if round_number % 2:
                    without = measure(name)
                    pair = (measure(ALL), without)
                else:
                    pair = (measure(ALL), measure(name))
                pairs[name].append(pair)
                ratio = pair[0].load.throughput / pair[1].load.throughput
                cpu = pair[1].cpu_ms / pair[0].cpu_ms
                print(f"round {round_number + 1} {name}: throughput with/without {ratio:.3f}, "
                      f"CPU per message without/with {cpu:.3f}", flush=True)  # fmt: skip
    return pairs


def table(pairs: Dict[str, List[Pair]]) -> str:
    lines = [
        "| patch | messages/s with / without | throughput the patch buys (paired) "
        "| server CPU ms per message with / without | CPU the patch saves (paired) "
        "| p50 ms with / without | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, runs in pairs.items():
        with_, without = [w for w, _ in runs], [wo for _, wo in runs]
        gain = median([w.load.throughput / wo.load.throughput for w, wo in runs]) - 1
        saved = 1 - median([w.cpu_ms / wo.cpu_ms for w, wo in runs])
        loads = [m.load for m in with_ + without]
        lines.append(
            f"| {name} | {median([m.load.throughput for m in with_]):.1f} / "
            f"{median([m.load.throughput for m in without]):.1f} | {gain * 100:+.1f}% | "
            f"{median([m.cpu_ms for m in with_]):.1f} / "
            f"{median([m.cpu_ms for m in without]):.1f} | {saved * 100:+.1f}% | "
            f"{median([m.load.percentile(50) for m in with_]):.0f} / "
            f"{median([m.load.percentile(50) for m in without]):.0f} | "
            f"{sum(r.errors for r in loads)}/{sum(r.messages for r in loads)} |"
        )
    lines.append("")
    lines.append(f"({len(next(iter(pairs.values())))} pairs per patch; medians)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--patches", default=",".join(SPEED_ONLY), help="comma-separated")
    parser.add_argument("--cached-conversations", type=int, default=128)
    args = parser.parse_args()
    patches = [name for name in args.patches.split(",") if name]
    print(table(run(args.rounds, patches, args.cached_conversations)))


if __name__ == "__main__":
    main()
