"""The report's figures, worked out from predictions alone, and their change since last time.

Pure functions with no Rasa in them, so the arithmetic that decides what is called a
regression is tested without training anything (tests/test_training_report.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Tuple

# (text, expected label, predicted label); labels as evaluation.heldout.label_of gives them.
Prediction = Tuple[str, str, str]

# A topic's F1 or recall falling by more than this many points is a regression.
TOPIC_TOLERANCE_POINTS = 2.0
# Overall figures average hundreds of examples, so a smaller fall already means something;
# below half a point is the run-to-run noise of cross-validation on this data.
OVERALL_TOLERANCE_POINTS = 0.5
OVERALL_NAMES = {
    "accuracy": "cross-validated accuracy",
    "macro_f1": "cross-validated macro F1 (every topic counts the same)",
    "weighted_f1": "cross-validated weighted F1 (big topics count more)",
    "heldout_topic_accuracy": "held-out topic accuracy",
    "heldout_out_of_scope_recall": "held-out out-of-scope recall",
}
TOPIC_METRICS = ("f1", "recall")


def topic_metrics(predictions: Sequence[Prediction]) -> Dict[str, Dict[str, float]]:
    """Precision, recall, F1 and number of examples of every expected label."""
    expected = Counter(row[1] for row in predictions)
    predicted = Counter(row[2] for row in predictions)
    right = Counter(row[1] for row in predictions if row[1] == row[2])
    metrics: Dict[str, Dict[str, float]] = {}
    for label in sorted(expected):
        precision = right[label] / predicted[label] if predicted[label] else 0.0
        recall = right[label] / expected[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        metrics[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": expected[label],
        }
    return metrics


def overall_metrics(
    predictions: Sequence[Prediction], topics: Mapping[str, Mapping[str, float]]
) -> Dict[str, float]:
    total = sum(t["support"] for t in topics.values())
    return {
        "accuracy": sum(row[1] == row[2] for row in predictions) / max(len(predictions), 1),
        "macro_f1": sum(t["f1"] for t in topics.values()) / max(len(topics), 1),
        "weighted_f1": sum(t["f1"] * t["support"] for t in topics.values()) / max(total, 1),
    }


@dataclass
class ConfusedPair:
    """Two labels the model mixes up, with the examples that went each way."""

    first: str
    second: str
    first_as_second: List[str] = field(default_factory=list)
    second_as_first: List[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.first_as_second) + len(self.second_as_first)


def confused_pairs(predictions: Sequence[Prediction], top: int = 10) -> List[ConfusedPair]:
    """The label pairs with the most mistakes between them, in either direction."""
    pairs: Dict[Tuple[str, str], ConfusedPair] = {}
    for text, expected, got in predictions:
        if expected == got:
            continue
        first, second = sorted((expected, got))
        pair = pairs.setdefault((first, second), ConfusedPair(first, second))
        (pair.first_as_second if expected == first else pair.second_as_first).append(text)
    ranked = sorted(pairs.values(), key=lambda p: (-p.count, p.first, p.second))
    return ranked[:top]


def confusion_counts(
    predictions: Sequence[Prediction],
) -> Tuple[List[str], Dict[str, Dict[str, int]]]:
    """Labels (expected ones first, then any only ever predicted) and counts[expected][got]."""
    expected = sorted({row[1] for row in predictions})
    extra = sorted({row[2] for row in predictions} - set(expected))
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, want, got in predictions:
        counts[want][got] += 1
    return expected + extra, {k: dict(v) for k, v in counts.items()}


@dataclass
class Change:
    """One figure now and in the previous report, in percentage points."""

    name: str
    metric: str
    current: float
    previous: float | None
    tolerance_points: float

    @property
    def delta_points(self) -> float | None:
        if self.previous is None:
            return None
        return (self.current - self.previous) * 100

    @property
    def regressed(self) -> bool:
        delta = self.delta_points
        return delta is not None and -delta > self.tolerance_points + 1e-9


@dataclass
class Comparison:
    """What moved since the previous report (`previous` None: this is the first report)."""

    previous: Mapping[str, Any] | None
    overall: List[Change]
    topics: Dict[str, List[Change]]
    new_topics: List[str]
    removed_topics: List[str]

    @property
    def regressions(self) -> List[Change]:
        changes = list(self.overall) + [c for cs in self.topics.values() for c in cs]
        return [c for c in changes if c.regressed]

    def regressed_topics(self) -> List[str]:
        return sorted({c.name for cs in self.topics.values() for c in cs if c.regressed})


def compare(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    topic_tolerance_points: float = TOPIC_TOLERANCE_POINTS,
    overall_tolerance_points: float = OVERALL_TOLERANCE_POINTS,
) -> Comparison:
    """Every overall figure and every topic's F1 and recall against the previous summary.

    Both summaries have the shape of reports/nlu_summary.json ("overall" and "topics").
    A regression is a topic's F1 or recall down by more than `topic_tolerance_points`, or an
    overall figure down by more than `overall_tolerance_points`.
    """
    before_overall = (previous or {}).get("overall", {})
    overall = [
        Change(
            name=name,
            metric=name,
            current=value,
            previous=before_overall.get(name),
            tolerance_points=overall_tolerance_points,
        )
        for name, value in current["overall"].items()
        if value is not None
    ]
    before_topics = (previous or {}).get("topics", {})
    topics = {
        topic: [
            Change(
                name=topic,
                metric=metric,
                current=figures[metric],
                previous=before_topics.get(topic, {}).get(metric),
                tolerance_points=topic_tolerance_points,
            )
            for metric in TOPIC_METRICS
        ]
        for topic, figures in current["topics"].items()
    }
    new_topics = sorted(set(current["topics"]) - set(before_topics)) if previous else []
    removed = sorted(set(before_topics) - set(current["topics"]))
    return Comparison(previous, overall, topics, new_topics, removed)


def topics_with_heldout(
    topics: Mapping[str, Mapping[str, float]], heldout: Mapping[str, float]
) -> Dict[str, Dict[str, Any]]:
    """Cross-validated figures per topic with the held-out accuracy beside them."""
    return {
        topic: {
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()},
            "heldout_accuracy": round(heldout[topic], 4) if topic in heldout else None,
        }
        for topic, figures in topics.items()
    }
