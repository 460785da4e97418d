"""The linear model's one-message path (components/linear_topics.py) gives sklearn's scores.

A conversation's message is scored without sklearn's `transform` and `decision_function`
(their per-call overhead was most of the model's cost); it must not differ in any bit from
what the same message gets in a batch, which goes through sklearn.
"""

from __future__ import annotations

from typing import List

import numpy as np
import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from components.linear_topics import KNOWN_WORDS, LINEAR_TOPICS, LinearTopicClassifier
from scripts.stack import ROOT
from tests.support.components import shipped_config, train_and_load

ODD_TEXTS = ["zzz qqq", "vetting vetting vetting", "MI5!! 2024 ???", "مرحبا 你好 👋", "?"]


def tokenized(texts: List[str]) -> List[Message]:
    messages = [Message({TEXT: text}) for text in texts]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    return messages


@pytest.fixture(scope="module", params=["tfidf", "vectors"])
def trained(request, tmp_path_factory) -> tuple[LinearTopicClassifier, List[str]]:
    """The model trained on the project's own training data, background included, with
    and without the pretrained word-piece vectors (`make vectors`)."""
    data = load_data(str(ROOT / "data" / "nlu"))
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    config = LinearTopicClassifier.get_default_config()
    if request.param == "vectors":
        config["vectors"] = str(ROOT / shipped_config(LinearTopicClassifier)["vectors"])
    linear = train_and_load(LinearTopicClassifier, config, tmp_path_factory.mktemp("linear"), data)
    return linear, [m.get(TEXT) for m in data.intent_examples][::7] + ODD_TEXTS


def test_one_message_gets_exactly_the_scores_of_a_batch(trained):
    linear, texts = trained
    together = linear.process(tokenized(texts))
    for text, batched in zip(texts, together, strict=True):
        [alone] = linear.process(tokenized([text]))
        assert alone.get(LINEAR_TOPICS) == batched.get(LINEAR_TOPICS), text
        assert alone.get(KNOWN_WORDS) == batched.get(KNOWN_WORDS), text


def test_one_message_decision_scores_match_sklearn_bit_for_bit(trained):
    """The raw decision scores, before the softmax hides small differences."""
    linear, texts = trained
    messages = tokenized(texts)
    lemmas = [linear._lemmas(m) for m in messages]
    expected = linear._model.decision_function(linear._features(messages, lemmas))
    for text, lemma_text, row in zip(texts, lemmas, expected, strict=True):
        assert np.array_equal(linear._single_scores(lemma_text, text), row), text


def test_an_empty_message_scores_the_intercepts(trained):
    linear, _ = trained
    [message] = linear.process(tokenized([""]))
    [batched, _] = linear.process(tokenized(["", "x"]))
    assert message.get(LINEAR_TOPICS) == batched.get(LINEAR_TOPICS)
