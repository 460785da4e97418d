"""The development set's reader and the tuning tool's settings (training/tuning.py)."""

from __future__ import annotations

from evaluation.scoring import Scored, SetReport
from evaluation.sets import Example
from training.tuning import (
    careers,
    development_set,
    off_topic,
    parse_settings,
    quoted,
    safety,
    summary,
    training_fold,
)

# What `rasa data split nlu` writes: topics, intents and the generated background together.
FOLD = """version: "3.1"
nlu:
- intent: faq/process_vetting
  examples: |
    - how deep does the vetting go
- intent: greet
  examples: |
    - hiya
- intent: out_of_scope
  examples: |
    - what's the weather like
- intent: out_of_scope
  metadata:
    background: true
  examples: |
    - best pizza near me
"""


def test_settings_to_try_are_read_as_numbers() -> None:
    assert parse_settings("off_topic_doubt=0.1,linear_weight=0.6") == {
        "off_topic_doubt": 0.1,
        "linear_weight": 0.6,
    }
    assert parse_settings("") == {}


def test_the_development_set_has_all_four_parts() -> None:
    questions, sourced, everyday, risky = careers(), quoted(), off_topic(), safety()
    assert len(questions) >= 250 and len(sourced) >= 60 and len(everyday) >= 600
    assert all(example.expected.startswith("faq/") for example in questions)
    assert all(example.source.startswith("https://") for example in sourced)
    assert {example.expected for example in everyday} == {"out_of_scope"}
    # every safety intent, and look-alikes that must not get a safety answer
    assert {"report_threat", "distress", "abuse", "out_of_scope"} <= {
        example.expected for example in risky
    }
    assert len(development_set()) == (len(questions) + len(sourced) + len(everyday) + len(risky))


def test_a_part_reports_only_the_figures_that_apply_to_it() -> None:
    right = Scored(
        Example("mi6 jobs", "faq/public_other_careers", "x"), "faq/public_other_careers", 0.9
    )
    answered = Scored(Example("best pizza", "out_of_scope", "x"), "faq/life_salary", 0.5)
    assert summary("careers", SetReport("c", [right])) == (
        "careers (1): careers right 100.0%, did you mean 0.0%, confident-wrong 0.0%"
    )
    assert summary("off", SetReport("o", [answered])) == "off (1): off-topic answered 100.0%"


def test_a_training_fold_is_scored_without_the_generated_background(tmp_path) -> None:
    (path := tmp_path / "test_data.yml").write_text(FOLD, encoding="utf-8")
    assert [(example.text, example.expected) for example in training_fold(path)] == [
        ("how deep does the vetting go", "faq/process_vetting"),
        ("hiya", "greet"),
        ("what's the weather like", "out_of_scope"),
    ]
