"""Choose the open-set settings on the development set, never on the evaluation sets.

    python -m training.tuning models/careers.tar.gz [--try off_topic_doubt=0.1 ...] [--misses]
        [--fold test_data.yml]

The development set (tuning/: README.md there) is written apart from the training data and
the evaluation sets and is never trained on. Unlike the evaluation sets, trainers may read
it: its misses show what the training data lacks. Each ``--try`` scores the same model with
other `components.open_set.OpenSetDecision` settings (``name=value,name=value``), so a
threshold is chosen here and only then measured once on the evaluation sets.

``--fold`` also scores a fifth of the training examples that the model was trained without
(``rasa data split nlu``, then ``rasa train`` on the rest: tuning/README.md). Those are
paraphrases written beside the training data, as the held-out evaluation set's are, and the
development set's own careers questions, written apart, showed far fewer "did you mean" than
the held-out set gets.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data
from rasa.utils.log_utils import configure_structlog

from components.linear_topics import is_background
from components.open_set import OpenSetDecision
from evaluation.scoring import SetReport, score
from evaluation.sets import OFF_TOPIC, ROOT, Example, other_words

TUNING_DIR = ROOT / "tuning"


def off_topic(path: Path = TUNING_DIR / "off_topic.txt") -> List[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Example(line.strip(), OFF_TOPIC, "tuning") for line in lines if line.strip()]


def careers(path: Path = TUNING_DIR / "careers.tsv") -> List[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(text.strip(), topic.strip(), "tuning") for topic, text in rows]


def safety(path: Path = TUNING_DIR / "safety.tsv") -> List[Example]:
    """Threat reports, crises and abuse, with look-alikes that are not ("gun laws in
    america"): `careers.tsv`'s format."""
    return careers(path)


def quoted(path: Path = TUNING_DIR / "other_words.tsv") -> List[Example]:
    """Questions quoted from public pages, each with its source: the evaluation set's format."""
    return other_words(path)


def training_fold(path: Path) -> List[Example]:
    """The training examples a fold model never saw, the generated background left out."""
    messages = load_data(str(path)).intent_examples
    return [
        Example(m.get("text"), m.get_full_intent(), "fold")
        for m in messages
        if not is_background(m)
    ]


# Scored and reported apart: the quoted questions are harder than the written ones, and a
# gain on one part must not hide a loss on another.
DEVELOPMENT_SETS: Dict[str, Callable[[], List[Example]]] = {
    "careers (written)": careers,
    "careers (quoted)": quoted,
    "off-topic": off_topic,
    "safety": safety,
}


def development_set() -> List[Example]:
    """Every line of the development set: careers questions and off-topic messages."""
    return [example for load in DEVELOPMENT_SETS.values() for example in load()]


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
    """One line of the figures that apply to this part (careers or off-topic)."""
    figures = {
        "careers right": report.topic_accuracy,
        "did you mean": report.did_you_mean,
        "confident-wrong": report.confident_wrong,
        "off-topic answered": report.off_topic_answered,
    }
    shown = [f"{name} {100 * value:.1f}%" for name, value in figures.items() if value is not None]
    return f"{label} ({len(report.rows)}): {', '.join(shown)}"


async def run(model: Path, trials: List[str], misses: bool, fold: Path | None) -> None:
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    config = open_set_config(agent)
    defaults = dict(config)
    parts = {name: load() for name, load in DEVELOPMENT_SETS.items()}
    if fold is not None:
        parts["training fold"] = training_fold(fold)
    for trial in ["", *trials]:
        config.clear()
        config.update(defaults, **parse_settings(trial))
        print(trial or "as trained", flush=True)
        for name, examples in parts.items():
            report = await score(agent, name, examples)
            print(summary(f"  {name}", report), flush=True)
            if misses and not trial:
                print("\n".join(report.misses()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=ROOT / "models/careers.tar.gz")
    parser.add_argument("--try", dest="trials", action="append", default=[])
    parser.add_argument("--misses", action="store_true", help="list what the model got wrong")
    parser.add_argument("--fold", type=Path, help="training examples the model was trained without")
    args = parser.parse_args()
    asyncio.run(run(args.model, args.trials, args.misses, args.fold))


if __name__ == "__main__":
    main()
