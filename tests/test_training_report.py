"""The report's arithmetic, its pages, and the held-out gate's comparison, without training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from sklearn.metrics import precision_recall_fscore_support

from evaluation.heldout import HeldoutReport
from training import baseline
from training.report import build_summary, previous_summary
from training.report_figures import (
    compare,
    confused_pairs,
    confusion_counts,
    overall_metrics,
    topic_metrics,
)
from training.report_pages import ReportContext, confusion_png, render_html, render_markdown

PREDICTIONS = [
    ("how old do i need to be", "faq/eligibility_age", "faq/eligibility_age"),
    ("is there an age limit", "faq/eligibility_age", "faq/eligibility_age"),
    ("am i too young at 17", "faq/eligibility_age", "faq/eligibility_nationality"),
    ("do i need to be british", "faq/eligibility_nationality", "faq/eligibility_nationality"),
    ("i have dual nationality", "faq/eligibility_nationality", "faq/eligibility_age"),
    ("can a french citizen apply", "faq/eligibility_nationality", "faq/eligibility_age"),
    ("hello", "greet", "greet"),
    ("hiya <script>alert(1)</script>", "greet", "faq"),
]


def topics_figures(**accuracy: float) -> Dict[str, Any]:
    return {
        "topic_accuracy": accuracy.pop("overall", 0.9),
        "out_of_scope_recall": accuracy.pop("oos", 0.9),
        "topics": {
            topic.replace("__", "/"): {"accuracy": value, "examples": 8}
            for topic, value in accuracy.items()
        },
    }


# --- the held-out gate ------------------------------------------------------------------


def test_gate_names_each_topic_that_fell_more_than_two_points():
    saved = topics_figures(faq__process_vetting=0.875, faq__eligibility_age=1.0, greet=1.0)
    now = topics_figures(faq__process_vetting=0.75, faq__eligibility_age=0.625, greet=1.0)

    failures = baseline.regressions(saved, now)

    assert len(failures) == 2
    # Biggest fall first, each line naming the topic with before and after.
    assert failures[0].startswith("faq/eligibility_age: 62.5% of 8, was 100.0% (-37.5 points)")
    assert failures[1].startswith("faq/process_vetting: 75.0% of 8, was 87.5%")
    assert not any("greet" in line for line in failures)


def test_gate_allows_falls_of_two_points_or_less_and_any_rise():
    saved = topics_figures(overall=0.80, oos=0.90, faq__a=0.80, faq__b=0.50)
    now = topics_figures(overall=0.78, oos=0.885, faq__a=0.78, faq__b=0.75)

    assert baseline.regressions(saved, now) == []


def test_gate_fails_on_the_overall_figures():
    saved = topics_figures(overall=0.85, oos=0.92, faq__a=0.8)
    now = topics_figures(overall=0.8299, oos=0.88, faq__a=0.8)

    failures = baseline.regressions(saved, now)

    assert failures == [
        "topic accuracy: 83.0%, was 85.0% (-2.0 points)",
        "out of scope recall: 88.0%, was 92.0% (-4.0 points)",
    ]


def test_gate_fails_when_a_topic_loses_its_heldout_examples_but_not_for_new_topics():
    saved = topics_figures(faq__a=0.8, faq__gone=1.0)
    now = topics_figures(faq__a=0.8, faq__new=0.0)

    assert baseline.regressions(saved, now) == [
        "faq/gone: no held-out examples any more (was 100.0% on 8)"
    ]


def test_gate_tolerance_is_a_parameter():
    saved, now = topics_figures(faq__a=0.8), topics_figures(faq__a=0.75)

    assert baseline.regressions(saved, now, tolerance_points=10) == []
    assert len(baseline.regressions(saved, now, tolerance_points=2)) == 1


def test_baseline_figures_come_from_a_heldout_report_and_round_trip(tmp_path: Path):
    report = HeldoutReport(
        results=[
            ("a", "faq/x", "faq/x"),
            ("b", "faq/x", "greet"),
            ("c", "greet", "greet"),
            ("d", "out_of_scope", "nlu_fallback"),
        ]
    )
    figures = baseline.figures(report)
    path = tmp_path / "reports" / "heldout_baseline.json"

    baseline.save(figures, path)
    loaded = baseline.load(path)

    assert figures["topic_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["topics"]["faq/x"] == {"accuracy": 0.5, "examples": 2}
    assert figures["topics"]["out_of_scope"] == {"accuracy": 1.0, "examples": 1}
    assert loaded is not None and "make baseline" in loaded["about"]
    assert baseline.regressions(loaded, figures) == []
    assert baseline.load(tmp_path / "missing.json") is None


# --- the report's figures ---------------------------------------------------------------


def test_topic_metrics_agree_with_scikit_learn():
    metrics = topic_metrics(PREDICTIONS)
    labels = sorted(metrics)
    precision, recall, f1, support = precision_recall_fscore_support(
        [p[1] for p in PREDICTIONS], [p[2] for p in PREDICTIONS], labels=labels, zero_division=0
    )

    for i, label in enumerate(labels):
        assert metrics[label]["precision"] == pytest.approx(precision[i])
        assert metrics[label]["recall"] == pytest.approx(recall[i])
        assert metrics[label]["f1"] == pytest.approx(f1[i])
        assert metrics[label]["support"] == support[i]
    # "faq" alone was only ever predicted: it is a column of the matrix, not a topic.
    assert "faq" not in metrics
    overall = overall_metrics(PREDICTIONS, metrics)
    assert overall["accuracy"] == pytest.approx(4 / 8)


def test_confused_pairs_join_both_directions_and_rank_by_mistakes():
    pairs = confused_pairs(PREDICTIONS)

    assert (pairs[0].first, pairs[0].second) == (
        "faq/eligibility_age",
        "faq/eligibility_nationality",
    )
    assert pairs[0].first_as_second == ["am i too young at 17"]
    assert pairs[0].second_as_first == ["i have dual nationality", "can a french citizen apply"]
    assert pairs[0].count == 3
    assert [(p.first, p.second, p.count) for p in pairs[1:]] == [("faq", "greet", 1)]


def test_confusion_counts_add_predicted_only_labels_after_the_topics():
    labels, counts = confusion_counts(PREDICTIONS)

    assert labels[-1] == "faq"
    assert counts["faq/eligibility_nationality"] == {
        "faq/eligibility_nationality": 1,
        "faq/eligibility_age": 2,
    }


def summary(**topics: Dict[str, float]) -> Dict[str, Any]:
    return {
        "overall": {"accuracy": 0.9, "macro_f1": 0.85, "heldout_topic_accuracy": 0.8},
        "topics": {
            name.replace("__", "/"): {"precision": 0.9, "support": 30, **values}
            for name, values in topics.items()
        },
    }


def test_first_report_has_nothing_to_regress_against():
    comparison = compare(None, summary(faq__a={"f1": 0.5, "recall": 0.5}))

    assert comparison.regressions == []
    assert all(change.delta_points is None for change in comparison.overall)
    assert comparison.new_topics == []


def test_topic_f1_or_recall_down_more_than_two_points_is_a_regression():
    before = summary(
        faq__a={"f1": 0.90, "recall": 0.90},
        faq__b={"f1": 0.90, "recall": 0.90},
        faq__c={"f1": 0.90, "recall": 0.90},
        faq__gone={"f1": 0.90, "recall": 0.90},
    )
    now = summary(
        faq__a={"f1": 0.875, "recall": 0.90},  # F1 -2.5
        faq__b={"f1": 0.885, "recall": 0.88},  # -1.5 and -2.0: within tolerance
        faq__c={"f1": 0.95, "recall": 0.86},  # recall -4
        faq__new={"f1": 0.2, "recall": 0.2},
    )

    comparison = compare(before, now)

    assert [(c.name, c.metric) for c in comparison.regressions] == [
        ("faq/a", "f1"),
        ("faq/c", "recall"),
    ]
    assert comparison.regressed_topics() == ["faq/a", "faq/c"]
    assert comparison.new_topics == ["faq/new"]
    assert comparison.removed_topics == ["faq/gone"]


def test_overall_figures_regress_when_down_more_than_half_a_point():
    before = summary(faq__a={"f1": 0.9, "recall": 0.9})
    now = summary(faq__a={"f1": 0.9, "recall": 0.9})
    now["overall"] = {"accuracy": 0.894, "macro_f1": 0.846, "heldout_topic_accuracy": 0.9}

    regressed = [c.name for c in compare(before, now).regressions]

    assert regressed == ["accuracy"]


# --- the pages --------------------------------------------------------------------------


def report_context(previous: Any, gate: Any) -> ReportContext:
    heldout = HeldoutReport(
        results=[("x", "greet", "greet"), ("y", "faq/eligibility_age", "greet")]
    )
    current = build_summary(
        PREDICTIONS, heldout, folds=3, config=Path("config.yml"), model=Path("m.tar.gz")
    )
    return ReportContext(
        summary=current,
        comparison=compare(previous, current),
        pairs=confused_pairs(PREDICTIONS),
        previous_source=None if previous is None else "the report committed in HEAD",
        gate_failures=gate,
        elapsed_seconds=90,
    )


def test_report_renders_with_matrix_escaped_examples_and_highlighted_regressions():
    first = report_context(None, None)
    previous = json.loads(json.dumps(first.summary))
    previous["topics"]["greet"]["recall"] = 1.0
    context = report_context(previous, ["faq/eligibility_age: 0.0% of 1, was 100.0%"])
    labels, counts = confusion_counts(PREDICTIONS)
    png = confusion_png(labels, counts)

    page = render_html(context, png)
    markdown = render_markdown(context)

    assert png.startswith(b"\x89PNG")
    assert 'src="data:image/png;base64,iVBOR' in page
    assert "<script>" not in page and "hiya &lt;script&gt;" in page
    assert '<tr class="regressed"><td>greet</td>' in page
    assert "faq/eligibility_age ↔ faq/eligibility_nationality: 3 mistakes" in page
    assert "Fails: <code>make test</code> will fail on" in page
    assert "- **greet** recall: 50.0% (was 100.0%, -50.0 points)" in markdown
    assert "## Held-out gate: fails" in markdown
    assert "| faq/eligibility_age | 3 | 50.0% | 66.7% | 57.1% | 0.0% |" in markdown


def test_first_report_says_so_instead_of_comparing():
    context = report_context(None, None)

    page = render_html(context, confusion_png(*confusion_counts(PREDICTIONS)))
    markdown = render_markdown(context)

    assert "First report" in page and "First report" in markdown
    assert "regression" not in markdown.lower()
    assert "no baseline saved yet" in markdown


def test_previous_summary_outside_the_repository_is_read_from_disk(tmp_path: Path):
    assert previous_summary(tmp_path / "nlu_summary.json") == (None, None)

    (tmp_path / "nlu_summary.json").write_text('{"generated": "yesterday", "overall": {}}')
    data, source = previous_summary(tmp_path / "nlu_summary.json")

    assert data == {"generated": "yesterday", "overall": {}}
    assert source == "the last report on disk (nlu_summary.json, yesterday)"


def test_the_gate_fails_on_the_overall_figures_not_on_one_topic():
    before = {"topic_accuracy": 0.87, "out_of_scope_recall": 0.88, "topics": {}}
    one_topic_flipped = {**before, "topic_accuracy": 0.862}
    assert not baseline.overall_fell(before, one_topic_flipped)
    assert baseline.overall_fell(before, {**before, "topic_accuracy": 0.849})
    assert baseline.overall_fell(before, {**before, "out_of_scope_recall": 0.85})
