"""The development set's reader and the tuning tool's settings (training/tuning.py)."""

from __future__ import annotations

from training.tuning import careers, development_set, off_topic, parse_settings


def test_settings_to_try_are_read_as_numbers() -> None:
    assert parse_settings("off_topic_doubt=0.1,linear_weight=0.6") == {
        "off_topic_doubt": 0.1,
        "linear_weight": 0.6,
    }
    assert parse_settings("") == {}


def test_the_development_set_has_both_kinds_of_message() -> None:
    questions, everyday = careers(), off_topic()
    assert len(questions) >= 250 and len(everyday) >= 600
    assert all(example.expected.startswith("faq/") for example in questions)
    assert {example.expected for example in everyday} == {"out_of_scope"}
    assert len(development_set()) == len(questions) + len(everyday)
