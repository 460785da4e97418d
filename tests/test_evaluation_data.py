"""The evaluation sets (evaluation/data/) are well formed and kept apart from the training data.

They measure the assistant honestly only while no sentence of theirs is trained on; the last test
fails as soon as one appears verbatim in data/nlu/ (case-insensitive, whitespace-normalised).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import yaml

from evaluation.sets import safety_messages
from tests.taxonomy import (
    ADDED_INTENTS,
    FAQ_TOPICS,
    OTHER_INTENTS,
    ROOT,
    TAXONOMY_DOC,
    intents_in_document,
    topics_in_document,
)
from training import tuning

DATA = ROOT / "evaluation" / "data"
OFF_TOPIC_DIR = DATA / "off_topic"
OTHER_WORDS = DATA / "other_words.tsv"
TRAINING_NLU = ROOT / "data" / "nlu"

MIN_OFF_TOPIC = 1500
MIN_DOMAINS = 25
MIN_HANDWRITTEN = 300
MIN_OTHER_WORDS = 150  # issue 14, item 6
HEADER = ["expected", "question", "source_url"]
# The taxonomy's "About MI5, not careers" topics (issue 14), until tests/taxonomy.py lists them.
PUBLIC_TOPICS = [
    "public_watching_me", "public_personal_data", "public_complaints_oversight",
    "public_threat_level", "public_contact", "public_other_careers", "public_scams",
]  # fmt: skip
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def off_topic_files() -> List[Path]:
    return sorted(OFF_TOPIC_DIR.glob("*.txt"))


def off_topic_lines() -> List[Tuple[str, str]]:
    """(file name, message) for every off-topic line."""
    return [
        (path.name, line)
        for path in off_topic_files()
        for line in path.read_text(encoding="utf-8").split("\n")[:-1]
    ]


def other_words_rows() -> List[Dict[str, str]]:
    with OTHER_WORDS.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        assert header == HEADER, header
        rows = list(reader)
    assert all(len(row) == len(HEADER) for row in rows), [r for r in rows if len(r) != 3]
    return [dict(zip(HEADER, row, strict=True)) for row in rows]


def known_labels() -> Set[str]:
    topics = set(FAQ_TOPICS) | set(PUBLIC_TOPICS)
    intents = set(OTHER_INTENTS) | set(ADDED_INTENTS)
    if TAXONOMY_DOC.exists():
        document = TAXONOMY_DOC.read_text(encoding="utf-8")
        topics |= set(topics_in_document(document))
        intents |= set(intents_in_document(document))
    return {f"faq/{topic}" for topic in topics} | intents


def training_examples() -> Set[str]:
    """Every training example in data/nlu/, without entity markup, normalised."""
    examples: Set[str] = set()
    for path in sorted(TRAINING_NLU.rglob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in content.get("nlu", []) or []:
            for line in str(item.get("examples", "")).splitlines():
                text = line.strip()
                if text.startswith("- "):
                    examples.add(normalise(ENTITY_MARKUP.sub(r"\1", text[2:])))
    return examples


def test_off_topic_files_are_clean_lines() -> None:
    assert off_topic_files(), f"no off-topic files in {OFF_TOPIC_DIR}"
    for path in off_topic_files():
        raw = path.read_bytes().decode("utf-8")
        assert raw.endswith("\n") and "\r" not in raw, path.name
        for number, line in enumerate(raw.split("\n")[:-1], start=1):
            assert line.strip() == line and line, f"{path.name}:{number} blank or padded"
            assert "\t" not in line, f"{path.name}:{number} has a tab"


def test_off_topic_set_is_large_and_broad() -> None:
    lines = off_topic_lines()
    domains = {name.split(".", 1)[0] for name, _ in lines}
    handwritten = [text for name, text in lines if name.endswith(".handwritten.txt")]
    assert len(lines) >= MIN_OFF_TOPIC, len(lines)
    assert len(domains) >= MIN_DOMAINS, sorted(domains)
    assert len(handwritten) >= MIN_HANDWRITTEN, len(handwritten)


def test_no_duplicates_anywhere() -> None:
    seen: Dict[str, str] = {}
    duplicates = []
    questions = [("other_words.tsv", row["question"]) for row in other_words_rows()]
    for name, text in off_topic_lines() + questions:
        key = normalise(text)
        if key in seen:
            duplicates.append((seen[key], name, text))
        seen.setdefault(key, name)
    assert not duplicates, duplicates


def test_other_words_rows_are_labelled_and_sourced() -> None:
    rows = other_words_rows()
    assert len(rows) >= MIN_OTHER_WORDS, len(rows)
    labels = known_labels()
    assert not [row for row in rows if row["expected"] not in labels]
    assert not [row for row in rows if not row["source_url"].startswith("https://")]
    assert not [row for row in rows if not row["question"].strip()]


def test_no_evaluation_sentence_is_in_the_training_data() -> None:
    if not TRAINING_NLU.is_dir():
        pytest.skip("no data/nlu in this checkout")
    training = training_examples()
    assert training, "found no training examples to compare with"
    texts = [text for _, text in off_topic_lines()] + [r["question"] for r in other_words_rows()]
    texts += [example.text for example in safety_messages()]
    leaked = [text for text in texts if normalise(text) in training]
    assert not leaked, f"evaluation sentences found in data/nlu/: {leaked}"


def test_the_development_set_is_labelled_and_never_trained_on() -> None:
    # The tuning tool's own readers (training/tuning.py): a row without a topic and a question
    # fails there.
    questions, quoted, everyday = tuning.careers(), tuning.quoted(), tuning.off_topic()
    labels = {f"faq/{topic}" for topic in FAQ_TOPICS + PUBLIC_TOPICS}
    assert questions and not [q for q in questions if q.expected not in labels]
    every_label = known_labels()
    assert quoted and not [q for q in quoted if q.expected not in every_label]
    assert not [q for q in quoted if not q.source.startswith("https://")]
    risky = tuning.safety()
    assert risky and not [q for q in risky if q.expected not in every_label]
    training = training_examples()
    leaked = [
        e.text for e in questions + quoted + everyday + risky if normalise(e.text) in training
    ]
    assert not leaked, f"development-set sentences found in data/nlu/: {leaked}"


def test_the_development_set_shares_no_sentence_with_the_evaluation_sets() -> None:
    # Quoted questions for both came from the same kind of public pages; one that is in both
    # would let tuning see an evaluation question.
    evaluation = {normalise(text) for _, text in off_topic_lines()}
    evaluation |= {normalise(row["question"]) for row in other_words_rows()}
    evaluation |= {normalise(example.text) for example in safety_messages()}
    shared = [e.text for e in tuning.development_set() if normalise(e.text) in evaluation]
    assert not shared, f"in both the development and the evaluation sets: {shared}"


def test_the_safety_set_is_labelled_and_covers_every_safety_intent() -> None:
    examples = safety_messages()
    labels = {example.expected for example in examples}
    assert {"report_threat", "distress", "abuse", "out_of_scope"} <= labels <= known_labels()
    assert len({normalise(example.text) for example in examples}) == len(examples)
