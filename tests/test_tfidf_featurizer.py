"""The TF-IDF featurizer (components/tfidf_featurizer.py): weighting, persistence, edge cases."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.tfidf_featurizer import TfidfFeaturizer
from scripts.stack import ROOT

EXAMPLES = [
    ("how long does vetting take", "faq"),
    ("what is vetting", "faq"),
    ("can i apply if i took drugs", "faq"),
    ("how do i apply", "faq"),
    ("hello there", "greet"),
]
CONTEXT = ExecutionContext(graph_schema=None, model_id="test")


def tokenized(texts: List[str]) -> List[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message({TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


def config(**overrides: Any) -> Dict[str, Any]:
    return {**TfidfFeaturizer.get_default_config(), "alias": "tfidf", **overrides}


@pytest.fixture
def trained(tmp_path) -> tuple[LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("tfidf")
    data = TrainingData([Message({TEXT: text, "intent": intent}) for text, intent in EXAMPLES])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    TfidfFeaturizer.create(config(), storage, resource, CONTEXT).train(data)
    return storage, resource


def sentence_vector(featurizer: TfidfFeaturizer, text: str) -> np.ndarray:
    [message] = featurizer.process(tokenized([text]))
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence is None  # only the sentence vector, unless asked for
    assert sentence is not None
    return sentence.features.toarray()[0]


def test_sentence_vectors_have_unit_length_and_favour_rare_words(trained):
    featurizer = TfidfFeaturizer.load(config(), trained[0], trained[1], CONTEXT)
    vector = sentence_vector(featurizer, "how long does vetting take")
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    vocabulary = featurizer._vectorizer.vocabulary_  # type: ignore[union-attr]
    # "how" is in two examples, "long" in one: the rarer word weighs more.
    assert vector[vocabulary["long"]] > vector[vocabulary["how"]]


def test_a_loaded_featurizer_gives_the_features_it_was_trained_with(trained, tmp_path):
    storage, resource = trained
    fresh = TfidfFeaturizer.load(config(), storage, resource, CONTEXT)
    again = TfidfFeaturizer.load(config(), storage, resource, CONTEXT)
    text = "what is vetting and how do i apply"
    np.testing.assert_allclose(sentence_vector(fresh, text), sentence_vector(again, text))


def test_fine_tuning_keeps_the_vocabulary_so_features_keep_their_size(trained):
    """`make train-fast` goes on from the loaded classifiers, which need same-sized input."""
    storage, resource = trained
    finetuning = ExecutionContext(graph_schema=None, model_id="test", is_finetuning=True)
    featurizer = TfidfFeaturizer.load(config(), storage, resource, finetuning)
    size = len(sentence_vector(featurizer, "how long does vetting take"))
    more = TrainingData([Message({TEXT: "brand new words entirely", "intent": "faq"})])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(more)
    featurizer.train(more)
    reloaded = TfidfFeaturizer.load(config(), storage, resource, CONTEXT)
    assert len(sentence_vector(reloaded, "how long does vetting take")) == size
    assert "brand" not in reloaded._vectorizer.vocabulary_  # type: ignore[union-attr]
    # A plain training learns the new words.
    TfidfFeaturizer.create(config(), storage, resource, CONTEXT).train(more)
    relearned = TfidfFeaturizer.load(config(), storage, resource, CONTEXT)
    assert "brand" in relearned._vectorizer.vocabulary_  # type: ignore[union-attr]


def test_unknown_and_empty_messages_are_left_without_crashing(trained):
    featurizer = TfidfFeaturizer.load(config(), trained[0], trained[1], CONTEXT)
    unknown, empty = featurizer.process(tokenized(["zzz qqq", ""]))
    sentence = unknown.get_sparse_features(TEXT)[1]
    assert sentence is not None and sentence.features.nnz == 0
    assert all(feature.features.nnz == 0 for feature in empty.features)


def trained_with_sequence_features(tmp_path) -> TfidfFeaturizer:
    storage, resource = LocalModelStorage(tmp_path), Resource("tfidf")
    data = TrainingData([Message({TEXT: text, "intent": i}) for text, i in EXAMPLES])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    with_sequence = config(sequence_features=True)
    TfidfFeaturizer.create(with_sequence, storage, resource, CONTEXT).train(data)
    return TfidfFeaturizer.load(with_sequence, storage, resource, CONTEXT)


def test_sequence_features_have_one_row_per_token_when_asked_for(tmp_path):
    featurizer = trained_with_sequence_features(tmp_path)
    [message] = featurizer.process(tokenized(["what is vetting"]))
    sequence, _ = message.get_sparse_features(TEXT)
    assert sequence is not None and sequence.features.shape[0] == 3


def test_messages_featurized_together_get_the_features_they_get_alone(tmp_path):
    """Training featurizes every example in one batch; answering, one message at a time."""
    featurizer = trained_with_sequence_features(tmp_path)
    texts = ["what is vetting", "hello", "how long does it take to apply", "vetting"]
    together = featurizer.process(tokenized(texts))
    for text, message in zip(texts, together, strict=True):
        [alone] = featurizer.process(tokenized([text]))
        for batched, single in zip(
            message.get_sparse_features(TEXT), alone.get_sparse_features(TEXT), strict=True
        ):
            assert batched is not None and single is not None
            assert batched.features.shape == single.features.shape
            assert np.allclose(batched.features.toarray(), single.features.toarray())
    sequence, _ = together[2].get_sparse_features(TEXT)
    assert sequence is not None and sequence.features.shape[0] == 7


@pytest.mark.parametrize("analyzer, ngrams", [("word", (1, 2)), ("char_wb", (2, 5))])
def test_one_message_gets_exactly_the_features_of_a_batch(tmp_path, analyzer, ngrams):
    """A message alone skips sklearn's transform; its features must not differ in any bit."""
    texts = [m.get(TEXT) for m in load_data(str(ROOT / "data" / "nlu")).training_examples]
    texts += ["", "zzz qqq", "vetting vetting vetting", "MI5!! 2024 ???", "مرحبا 你好 👋"]
    storage, resource = LocalModelStorage(tmp_path), Resource("tfidf")
    data = TrainingData([Message({TEXT: text, "intent": "any"}) for text in texts])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    options = config(analyzer=analyzer, min_ngram=ngrams[0], max_ngram=ngrams[1])
    TfidfFeaturizer.create(options, storage, resource, CONTEXT).train(data)
    featurizer = TfidfFeaturizer.load(options, storage, resource, CONTEXT)

    together = featurizer.process(tokenized(texts))
    for text, batched in zip(texts, together, strict=True):
        [alone] = featurizer.process(tokenized([text]))
        expected, got = batched.get_sparse_features(TEXT)[1], alone.get_sparse_features(TEXT)[1]
        if expected is None:
            assert got is None, text
            continue
        assert got is not None and got.features.shape == expected.features.shape, text
        assert np.array_equal(got.features.col, expected.features.col), text
        assert np.array_equal(got.features.data, expected.features.data), text


def test_a_model_without_a_trained_featurizer_featurizes_nothing(tmp_path):
    featurizer = TfidfFeaturizer.load(
        config(), LocalModelStorage(tmp_path), Resource("never_trained"), CONTEXT
    )
    [message] = featurizer.process(tokenized(["what is vetting"]))
    assert message.features == []


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="analyzer"):
        TfidfFeaturizer.validate_config(config(analyzer="letters"))
    with pytest.raises(ValueError, match="ngram"):
        TfidfFeaturizer.validate_config(config(min_ngram=3, max_ngram=2))
