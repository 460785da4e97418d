"""The held-out baseline the regression gate in `make test` compares the model against.

The floors in tests/test_nlu_heldout.py only catch collapses; a topic can lose most of its
held-out examples while the overall figure stays above them. The baseline remembers each
topic's held-out accuracy, so a change that quietly breaks one topic fails the suite by name.
It is committed: after an intended change, `make baseline` rewrites it and the pull request
shows which figures moved.

    python -m training.baseline [MODEL] [--output reports/heldout_baseline.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping

from evaluation.heldout import HeldoutReport, evaluate_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "reports" / "heldout_baseline.json"
MODEL = ROOT / "models" / "careers.tar.gz"
# How far, in percentage points, a figure may fall below the baseline before the gate fails.
TOLERANCE_POINTS = 2.0
ABOUT = (
    "Held-out accuracy (tests/nlu/) of the model when this file was written. "
    "tests/test_nlu_heldout.py fails when the overall topic accuracy or any topic's accuracy "
    f"falls more than {TOLERANCE_POINTS:g} points below these figures. After an intended change, "
    "refresh it with `make baseline` and commit it with the change."
)


def figures(report: HeldoutReport) -> Dict[str, Any]:
    """The figures the gate compares, rounded so the committed file diffs readably."""
    examples = Counter(expected for _, expected, _ in report.results)
    return {
        "topic_accuracy": round(report.topic_accuracy, 4),
        "out_of_scope_recall": round(report.out_of_scope_recall, 4),
        "topics": {
            label: {"accuracy": round(accuracy, 4), "examples": examples[label]}
            for label, accuracy in report.per_label_accuracy().items()
        },
    }


def regressions(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    tolerance_points: float = TOLERANCE_POINTS,
) -> List[str]:
    """One line per figure that fell more than `tolerance_points` below the baseline.

    Both arguments have the shape `figures` returns. A topic in the baseline with no held-out
    examples now is a failure too: deleting its examples must not be a way round the gate.
    Topics new since the baseline cannot have fallen and are not reported.
    """
    failures: List[str] = []

    def fell(before: float, after: float) -> bool:
        return (before - after) * 100 > tolerance_points + 1e-9

    for name in ("topic_accuracy", "out_of_scope_recall"):
        if name in baseline and name in current and fell(baseline[name], current[name]):
            failures.append(
                f"{name.replace('_', ' ')}: {_pct(current[name])}, "
                f"was {_pct(baseline[name])} ({_points(current[name] - baseline[name])})"
            )
    now = current.get("topics", {})
    dropped = []
    for topic, before in sorted(baseline.get("topics", {}).items()):
        if topic not in now:
            failures.append(
                f"{topic}: no held-out examples any more "
                f"(was {_pct(before['accuracy'])} on {before['examples']})"
            )
            continue
        after = now[topic]
        if fell(before["accuracy"], after["accuracy"]):
            change = after["accuracy"] - before["accuracy"]
            dropped.append((change, topic, before, after))
    for change, topic, before, after in sorted(dropped, key=lambda row: (row[0], row[1])):
        failures.append(
            f"{topic}: {_pct(after['accuracy'])} of {after['examples']}, "
            f"was {_pct(before['accuracy'])} ({_points(change)})"
        )
    return failures


def overall_fell(
    baseline: Mapping[str, Any],
    current: Mapping[str, Any],
    tolerance_points: float = TOLERANCE_POINTS,
) -> bool:
    """Whether the gate fails: the overall figures, not single topics, decide.

    A topic has a handful of held-out examples, so one borderline example that flips between
    two trainings moves it by 10 points or more; the per-topic lines say where to look.
    """
    return any(
        (baseline[name] - current[name]) * 100 > tolerance_points + 1e-9
        for name in ("topic_accuracy", "out_of_scope_recall")
        if name in baseline and name in current
    )


def load(path: Path = BASELINE) -> Dict[str, Any] | None:
    """The saved baseline, or None when there is none yet."""
    if not path.exists():
        return None
    data: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save(baseline: Mapping[str, Any], path: Path = BASELINE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"about": ABOUT, **baseline}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _points(change: float) -> str:
    return f"{change * 100:+.1f} points"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", type=Path, default=MODEL, help="a trained model")
    parser.add_argument("--output", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    if not args.model.exists():
        parser.error(f"{args.model} does not exist: run `make train` first")
    previous = load(args.output)
    current = figures(evaluate_model(args.model))
    save(current, args.output)
    print(
        f"Saved {args.output}: topic accuracy {_pct(current['topic_accuracy'])}, "
        f"out-of-scope recall {_pct(current['out_of_scope_recall'])}, "
        f"{len(current['topics'])} topics."
    )
    if previous is not None:
        fallen = regressions(previous, current)
        if fallen:
            print("Lower than the previous baseline (the gate accepts these from now on):")
            print("\n".join(f"  {line}" for line in fallen))
        risen = [
            f"  {topic}: {_pct(before['accuracy'])} -> {_pct(current['topics'][topic]['accuracy'])}"
            for topic, before in sorted(previous.get("topics", {}).items())
            if current["topics"].get(topic, {}).get("accuracy", 0) > before["accuracy"]
        ]
        if risen:
            print("Higher than the previous baseline:")
            print("\n".join(risen))
    print("Commit it with the change that moved it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
