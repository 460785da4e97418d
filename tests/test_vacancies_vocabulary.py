"""The job-family and place words trainers keep in data/vacancies/vocabulary.yml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.vacancies.vocabulary import (
    ANY,
    ANYWHERE,
    VOCABULARY_FILE,
    Vocabulary,
    VocabularyError,
)
from scripts.stack import ROOT


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def pattern_ids(label: str) -> set:
    lines = (ROOT / "data" / "entity_patterns.jsonl").read_text(encoding="utf-8").splitlines()
    patterns = [json.loads(line) for line in lines if line.strip()]
    return {p["id"] for p in patterns if p["label"] == label}


def test_every_job_family_the_entity_ruler_finds_is_understood(vocabulary: Vocabulary):
    ids = pattern_ids("job_family")
    assert ids, "no job_family patterns"
    assert {vocabulary.family(family_id) for family_id in ids} == ids


@pytest.mark.parametrize(
    ("value", "place"),
    [("London", "london"), ("Manchester", "manchester"), ("Cheltenham", "cheltenham"),
     ("Belfast", "northern_ireland"), ("Northern Ireland", "northern_ireland"),
     ("manc", "manchester"), ("ldn", "london"), ("anywhere", ANYWHERE), ("nationwide", ANYWHERE),
     ("multiple locations", ANYWHERE), ("remote", "remote"), ("Glasgow", None)],
)  # fmt: skip
def test_places(vocabulary: Vocabulary, value: str, place: str | None):
    assert vocabulary.place(value) == place


@pytest.mark.parametrize(
    ("value", "family"),
    [("tech", "technology"), ("IT", "technology"), ("cyber", "technology"),
     ("software", "technology"), ("I.T.", "technology"), ("linguist", "languages"),
     ("MSO", "surveillance"), ("grad scheme", "early_careers"), ("HR", "corporate"),
     ("intelligence analyst", "analysis"), ("intelligence officer", "intelligence"),
     ("anything", ANY), ("within", None), ("mandarin", None)],
)  # fmt: skip
def test_job_families(vocabulary: Vocabulary, value: str, family: str | None):
    assert vocabulary.family(value) == family


def test_labels_fit_a_quick_reply(vocabulary: Vocabulary):
    for term in vocabulary.families.terms.values():
        assert 0 < len(term.label) <= 20


def test_a_broken_file_says_which_file_and_why(tmp_path: Path):
    broken = tmp_path / "vocabulary.yml"
    broken.write_text("job_families: [unclosed\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=str(broken)):
        Vocabulary.load(broken)


def test_a_label_too_long_for_a_quick_reply_is_refused(tmp_path: Path):
    text = VOCABULARY_FILE.read_text(encoding="utf-8").replace(
        "label: Technology", "label: Technology and digital services"
    )
    too_long = tmp_path / "vocabulary.yml"
    too_long.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError, match="over 20 chars"):
        Vocabulary.load(too_long)
