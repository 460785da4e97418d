"""Sparse TF-IDF features for the classifiers, in place of Rasa's raw counts.

Rasa's CountVectorsFeaturizer gives DIET raw counts: a long message weighs more than a
short one, and words every topic shares ("apply", "MI5", "job") count as much as the word
that tells topics apart ("vetting", "drugs"). With a linear DIET (no transformer layers),
the sentence vector is all the classifier sees, so how it is weighted matters: sublinear
TF-IDF with unit length lifted held-out topic accuracy by several points (BENCHMARKS.md).

One featurizer per analyzer, like CountVectorsFeaturizer: "word" n-grams over lemmas
("applying" and "applied" look alike) and "char_wb" n-grams (typos and text-speak still
match). Only the applicant's text is featurized; intents and actions keep one-hot labels.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable, Dict, List, Tuple, Type

import numpy as np
import rasa.shared.utils.io
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

NUMBER = "__number__"
ANALYZERS = ("word", "char_wb")
VOCABULARY_FILE = "tfidf.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TfidfFeaturizer(SparseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "analyzer": "word",
            "min_ngram": 1,
            "max_ngram": 1,
            "use_lemma": True,
            "sublinear_tf": True,
            "min_df": 1,
            "max_features": None,
            # Token-level features only matter to entity recognition and transformer
            # layers; a linear DIET reads the sentence vector alone, and leaving them out
            # makes training several times faster.
            "sequence_features": False,
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if config["analyzer"] not in ANALYZERS:
            raise ValueError(f"TfidfFeaturizer analyzer must be one of {ANALYZERS}.")
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise ValueError("TfidfFeaturizer needs 1 <= min_ngram <= max_ngram.")

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizer: TfidfVectorizer | None = None,
    ) -> None:
        super().__init__(resource.name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer = vectorizer
        # The vectorizer's n-gram function and idf weights, for `_sentence_row`.
        self._weights: Tuple[Callable[[str], List[str]], np.ndarray] | None = None
        self._finetuning = False

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfFeaturizer:
        return cls(config, model_storage, resource)

    def _new_vectorizer(self, vocabulary: Dict[str, int] | None = None) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer=self._config["analyzer"],
            ngram_range=(self._config["min_ngram"], self._config["max_ngram"]),
            sublinear_tf=self._config["sublinear_tf"],
            min_df=self._config["min_df"],
            max_features=self._config["max_features"],
            token_pattern=r"(?u)\S+",
            lowercase=True,
            vocabulary=vocabulary,
        )

    def _tokens(self, message: Message) -> List[str]:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        words = [
            (token.lemma if self._config["use_lemma"] and token.lemma else token.text)
            for token in tokens
        ]
        return [NUMBER if re.fullmatch(r"\d+", word) else word.lower() for word in words]

    def train(self, training_data: TrainingData) -> Resource:
        if self._finetuning and self._vectorizer is not None:
            # `rasa train --finetune` (make train-fast) goes on from the loaded model, whose
            # classifiers need features of the same size: keep the vocabulary and weights.
            self.persist()
            return self._resource
        texts = [
            " ".join(tokens)
            for tokens in (self._tokens(m) for m in training_data.training_examples)
            if tokens
        ]
        self._vectorizer = self._new_vectorizer()
        self._vectorizer.fit(texts)
        self._weights = None
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurizes in one batch: per-message calls into sklearn dominate training time.

        A conversation's message comes alone, and sklearn's per-call checks and sparse
        matrix steps then cost more than the weighting itself (a tenth of the Rasa server's
        time under load), so one message without token features takes `_sentence_row`.
        """
        if self._vectorizer is None:
            return messages
        todo = [(message, self._tokens(message)) for message in messages]
        todo = [(message, tokens) for message, tokens in todo if tokens]
        if not todo:
            return messages
        with_tokens = self._config["sequence_features"]
        if len(todo) == 1 and not with_tokens:
            message, tokens = todo[0]
            self.add_features_to_message(None, self._sentence_row(tokens), TEXT, message)
            return messages
        # One call for the sentences and every token: rows are featurized independently.
        rows = [" ".join(tokens) for _, tokens in todo]
        rows += [token for _, tokens in todo for token in tokens] if with_tokens else []
        matrix = self._vectorizer.transform(rows).tocsr()
        next_token_row = len(todo)
        for row, (message, tokens) in enumerate(todo):
            sequence = None
            if with_tokens:
                sequence = _coo(matrix[next_token_row : next_token_row + len(tokens)])
                next_token_row += len(tokens)
            self.add_features_to_message(sequence, _coo(matrix[row]), TEXT, message)
        return messages

    def _sentence_row(self, tokens: List[str]) -> scipy.sparse.coo_matrix:
        """What `transform` gives for one sentence, bit for bit (`tfidf_row`)."""
        vectorizer = self._vectorizer
        assert vectorizer is not None
        if self._weights is None:
            self._weights = vectorizer.build_analyzer(), vectorizer.idf_
        analyze, idf = self._weights
        vocabulary = vectorizer.vocabulary_
        columns, values = tfidf_row(
            analyze, vocabulary, idf, vectorizer.sublinear_tf, " ".join(tokens)
        )
        rows = np.zeros(len(columns), dtype=np.int32)
        return scipy.sparse.coo_matrix((values, (rows, columns)), shape=(1, len(vocabulary)))

    def persist(self) -> None:
        if self._vectorizer is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(
                directory / VOCABULARY_FILE,
                {
                    "vocabulary": {
                        term: int(index) for term, index in self._vectorizer.vocabulary_.items()
                    },
                    "idf": [float(value) for value in self._vectorizer.idf_],
                },
            )

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfFeaturizer:
        featurizer = cls(config, model_storage, resource)
        featurizer._finetuning = execution_context.is_finetuning
        try:
            with model_storage.read_from(resource) as directory:
                saved = rasa.shared.utils.io.read_json_file(directory / VOCABULARY_FILE)
        except (ValueError, FileNotFoundError):
            # Nothing was trained (e.g. no examples): featurize nothing, like Rasa's own.
            return featurizer
        vectorizer = featurizer._new_vectorizer(vocabulary=saved["vocabulary"])
        vectorizer.idf_ = np.asarray(saved["idf"], dtype=np.float64)
        featurizer._vectorizer = vectorizer
        return featurizer


def _coo(matrix: scipy.sparse.spmatrix) -> scipy.sparse.coo_matrix:
    matrix.sort_indices()
    return matrix.tocoo()


def tfidf_row(
    analyze: Callable[[str], List[str]],
    vocabulary: Dict[str, int],
    idf: np.ndarray,
    sublinear_tf: bool,
    text: str,
) -> Tuple[np.ndarray, np.ndarray]:
    """One text's row of a fitted TfidfVectorizer's `transform`, bit for bit, in sklearn's own
    steps but without its per-call checks and sparse matrix steps (which cost more than the
    weighting for one message): the columns, ascending, and their values. `analyze` is the
    vectorizer's `build_analyzer()`, `idf` its `idf_` (both slow to get: keep them)."""
    counts = Counter(vocabulary[t] for t in analyze(text) if t in vocabulary)
    columns = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
    values = np.fromiter((counts[c] for c in columns), dtype=np.float64, count=len(counts))
    if sublinear_tf:
        np.log(values, values)
        values += 1
    values *= idf[columns]
    # sklearn's inplace_csr_row_normalize_l2: a running sum of squares, in the order
    # scipy's product with the idf diagonal leaves the columns in (last first).
    total = 0.0
    for value in values[::-1]:
        total += value * value
    if total != 0.0:
        values /= math.sqrt(total)
    return columns, values
