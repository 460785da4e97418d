"""Choose the open-set settings on the development set, never on the evaluation sets.

    python -m training.tuning models/careers.tar.gz [--try off_topic_doubt=0.1 ...] [--misses]

The development set (tuning/: README.md there) is written apart from the training data and
the evaluation sets and is never trained on. Unlike the evaluation sets, trainers may read
it: its misses show what the training data lacks. Each ``--try`` scores the same model with
other `components.open_set.OpenSetDecision` settings (``name=value,name=value``), so a
threshold is chosen here and only then measured once on the evaluation sets.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
from pathlib import Path
from typing import Any, Dict, List

from rasa.core.agent import Agent
from rasa.utils.log_utils import configure_structlog

from components.open_set import OpenSetDecision
from evaluation.scoring import SetReport, score
from evaluation.sets import OFF_TOPIC, ROOT, Example

TUNING_DIR = ROOT / "tuning"


def off_topic(path: Path = TUNING_DIR / "off_topic.txt") -> List[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Example(line.strip(), OFF_TOPIC, "tuning") for line in lines if line.strip()]


def careers(path: Path = TUNING_DIR / "careers.tsv") -> List[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(text.strip(), topic.strip(), "tuning") for topic, text in rows]


def development_set() -> List[Example]:
    """Every line of the development set: careers questions and off-topic messages."""
    return careers() + off_topic()


def open_set_config(agent: Agent) -> Dict[str, Any]:
    """The loaded OpenSetDecision's settings, to be changed in place between runs.

    A tuning tool only: it reaches into the graph runner's nodes (Rasa 3.6's DaskGraphRunner),
    which no part of the assistant does.
    """
    nodes = getattr(agent.processor.graph_runner, "_instantiated_nodes", {})
    for node in nodes.values():
        component = getattr(node, "_component", None)
        if isinstance(component, OpenSetDecision):
            return component._config
    raise SystemExit("no OpenSetDecision in this model's pipeline (or not Rasa 3.6's graph)")


def parse_settings(text: str) -> Dict[str, float]:
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return {name.strip(): float(value) for name, value in pairs}


def summary(label: str, report: SetReport) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    return (
        f"{label}: careers right {pct(report.topic_accuracy)}, did you mean "
        f"{pct(report.did_you_mean)}, confident-wrong {pct(report.confident_wrong)}, "
        f"off-topic answered {pct(report.off_topic_answered)}"
    )


async def run(model: Path, trials: List[str], misses: bool) -> None:
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    config = open_set_config(agent)
    defaults = dict(config)
    examples = development_set()
    for trial in ["", *trials]:
        config.clear()
        config.update(defaults, **parse_settings(trial))
        report = await score(agent, "development", examples)
        print(summary(trial or "as trained", report), flush=True)
        if misses and not trial:
            print("\n".join(report.misses()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=ROOT / "models/careers.tar.gz")
    parser.add_argument("--try", dest="trials", action="append", default=[])
    parser.add_argument("--misses", action="store_true", help="list what the model got wrong")
    args = parser.parse_args()
    asyncio.run(run(args.model, args.trials, args.misses))


if __name__ == "__main__":
    main()
