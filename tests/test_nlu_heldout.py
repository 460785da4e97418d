"""The accuracy gate: paraphrases the model never saw in training (tests/nlu/).

Two kinds of check: absolute floors that no model may go under, and the regression gate,
which compares every topic with the figures saved in reports/heldout_baseline.json.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.heldout import (
    OUT_OF_SCOPE_RECALL_FLOOR,
    TOPIC_ACCURACY_FLOOR,
    HeldoutReport,
    evaluate_model,
)
from training import baseline


@pytest.fixture(scope="module")
def report(trained_model: Path) -> HeldoutReport:
    return evaluate_model(trained_model)


def describe(report: HeldoutReport) -> str:
    lines = []
    for label, wrong in sorted(report.mistakes().items()):
        lines += [f"  {label}: {text!r} -> {got}" for text, got in wrong]
    return "\n".join(lines)


def test_topic_accuracy(report: HeldoutReport):
    assert report.topic_accuracy >= TOPIC_ACCURACY_FLOOR, (
        f"held-out topic accuracy {report.topic_accuracy:.1%} < {TOPIC_ACCURACY_FLOOR:.0%}\n"
        + describe(report)
    )


def test_out_of_scope_recall(report: HeldoutReport):
    assert report.out_of_scope_recall >= OUT_OF_SCOPE_RECALL_FLOOR, (
        f"out-of-scope recall {report.out_of_scope_recall:.1%} < {OUT_OF_SCOPE_RECALL_FLOOR:.0%}"
    )


def test_every_safety_intent_is_recognised(report: HeldoutReport):
    accuracy = report.per_label_accuracy()
    for intent in ("report_threat", "distress", "abuse"):
        assert accuracy[intent] >= 0.85, f"{intent}: {accuracy[intent]:.0%}\n" + describe(report)


def test_accuracy_did_not_fall_below_the_saved_baseline(report: HeldoutReport):
    saved = baseline.load()
    assert saved is not None, f"{baseline.BASELINE} is missing: run `make baseline` and commit it"
    current = baseline.figures(report)
    fallen = baseline.regressions(saved, current)
    assert not baseline.overall_fell(saved, current), (
        f"held-out accuracy fell more than {baseline.TOLERANCE_POINTS:g} points below "
        f"{baseline.BASELINE.relative_to(baseline.ROOT)}; the figures and topics that fell:\n"
        + "\n".join(f"  {line}" for line in fallen)
        + "\nAdd training examples for these topics (docs/training.md), or, if the trade-off "
        "is intended, run `make baseline` and say why in the pull request.\nMisses:\n"
        + describe(report)
    )
