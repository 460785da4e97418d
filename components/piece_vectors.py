"""Pretrained word-piece vectors for the linear topic model (built by `make vectors`).

A message's vector is the weighted mean of its words' vectors, each word the mean of its
pieces' vectors from the table that `word_pieces/build.py` made by running a sentence
encoder on each piece alone. A word weighs its pieces' mean idf over the training
examples: rare words tell topics apart, and a made-up word cut into many rare pieces
counts once, not once per piece ("talk to a person about Quokkamarker" stays a question
about talking to a person).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

import numpy as np
from tokenizers import Encoding, Tokenizer

TABLE_FILE = "pieces.npy"
TOKENIZER_FILE = "tokenizer.json"


class PieceVectors:
    def __init__(self, directory: Path, idf: np.ndarray | None = None) -> None:
        if not (directory / TABLE_FILE).is_file():
            raise FileNotFoundError(f"{directory}: no word-piece vectors here; run `make vectors`")
        self._table = np.load(directory / TABLE_FILE)
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.idf = np.ones(len(self._table)) if idf is None else idf

    @property
    def dimensions(self) -> int:
        return int(self._table.shape[1])

    def _encode(self, texts: List[str]) -> List[Encoding]:
        return self._tokenizer.encode_batch(texts, add_special_tokens=False)

    def fit(self, texts: List[str]) -> PieceVectors:
        """Each piece's smoothed idf over these texts (sklearn's formula)."""
        counts = np.zeros(len(self._table))
        for encoding in self._encode(texts):
            counts[np.unique(np.asarray(encoding.ids, dtype=int))] += 1
        self.idf = np.log((1 + len(texts)) / (1 + counts)) + 1
        return self

    def transform(self, texts: List[str]) -> np.ndarray:
        """One unit-length row per text (zeros for a text with no pieces)."""
        rows = np.zeros((len(texts), self.dimensions))
        for row, encoding in zip(rows, self._encode(texts), strict=True):
            for pieces in self._words(encoding):
                row += self.idf[pieces].mean() * self._table[pieces].mean(axis=0)
            norm = np.linalg.norm(row)
            if norm:
                row /= norm
        return rows

    @staticmethod
    def _words(encoding: Encoding) -> Iterable[List[int]]:
        """The piece ids of each word, in order."""
        words: dict[int, List[int]] = {}
        for piece, word in zip(encoding.ids, encoding.word_ids, strict=True):
            words.setdefault(-1 if word is None else word, []).append(piece)
        return words.values()
