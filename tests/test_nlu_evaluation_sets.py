"""The open-set gates: what applicants would be answered, on every evaluation set.

Each floor sits a little under the figure measured when it was set (BENCHMARKS.md has the
figures and the issue's targets), so a change that makes the assistant answer more off-topic
messages, misread more questions in other people's words, or ask "did you mean" more often
fails here by name. The sets are never trained on (evaluation/data/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from evaluation.scoring import SetReport, evaluate_sets

HELDOUT, OTHER_WORDS, OFF_TOPIC, SAFETY = (
    "held-out paraphrases",
    "other people's words",
    "off-topic messages",
    "safety messages",
)
# (set, measure) -> (bound, which), a little on the safe side of the measured figures.
GATES = {
    (HELDOUT, "topic_accuracy"): (0.92, "at least"),  # measured 93.6%
    (HELDOUT, "did_you_mean"): (0.03, "at most"),  # 1.7%
    (HELDOUT, "confident_wrong"): (0.015, "at most"),  # 0.0%
    (OTHER_WORDS, "topic_accuracy"): (0.88, "at least"),  # 89.9%
    (OTHER_WORDS, "confident_wrong"): (0.03, "at most"),  # 0.6%
    (OFF_TOPIC, "off_topic_answered"): (0.015, "at most"),  # 1.3%
    # threat reports, crises and abuse answered with their safety answer; look-alikes not
    (SAFETY, "topic_accuracy"): (0.75, "at least"),  # 78.6%
    (SAFETY, "off_topic_answered"): (0.08, "at most"),  # 4.2%
}


@pytest.fixture(scope="module")
def reports(trained_model: Path) -> Dict[str, SetReport]:
    return evaluate_sets(trained_model)


def misses(report: SetReport, limit: int = 40) -> str:
    return "\n".join(f"  {line}" for line in report.misses()[:limit])


@pytest.mark.parametrize(("name", "measure"), list(GATES))
def test_gate(reports, name, measure):
    value = getattr(reports[name], measure)
    bound, which = GATES[(name, measure)]
    ok = value >= bound if which == "at least" else value <= bound
    assert ok, (
        f"{name}: {measure.replace('_', ' ')} {value:.1%}, should be {which} {bound:.1%}\n"
        + misses(reports[name])
    )


def test_safety_messages_in_other_peoples_words_are_never_taken_as_off_topic(reports):
    safety = [
        row
        for row in reports[OTHER_WORDS].rows
        if row.example.expected in {"report_threat", "distress", "abuse"}
    ]
    assert safety, "the set has safety questions (report_threat) to check"
    assert all(row.got != "out_of_scope" for row in safety), [
        (row.example.text, row.got) for row in safety
    ]
