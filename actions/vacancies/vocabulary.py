"""The words for job families and places that trainers keep in data/vacancies/vocabulary.yml."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Tuple

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from actions.settings import PROJECT_ROOT

VOCABULARY_FILE = PROJECT_ROOT / "data" / "vacancies" / "vocabulary.yml"
ANY = "any"
ANYWHERE = "anywhere"
MULTIPLE = "multiple"
REMOTE = "remote"
MAX_LABEL_CHARS = 20
NOT_WORD = re.compile(r"[^0-9a-z]+")
MAX_REMEMBERED = 10_000


class VocabularyError(ValueError):
    """The vocabulary file is unusable; the message says where and why."""


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: "I.T. Jobs!" -> "i t jobs"."""
    return NOT_WORD.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class Term:
    id: str
    label: str
    phrases: Tuple[str, ...]  # normalised


class Lookup:
    """Finds terms in text by whole words; the longest phrase wins."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = {term.id: term for term in terms}
        pairs = [(phrase, term.id) for term in self.terms.values() for phrase in term.phrases]
        self._by_phrase = dict(sorted(pairs, key=lambda pair: len(pair[0])))
        self._longest_first = sorted(self._by_phrase.items(), key=lambda p: -len(p[0]))
        self._seen: Dict[str, FrozenSet[str]] = {}

    def exact(self, text: str) -> str | None:
        return self._by_phrase.get(normalise(text))

    def best(self, text: str) -> str | None:
        """The term whose longest phrase occurs in the text."""
        padded = f" {normalise(text)} "
        for phrase, term_id in self._longest_first:
            if f" {phrase} " in padded:
                return term_id
        return None

    def all_in(self, text: str) -> FrozenSet[str]:
        """Every term found in the text, each span taken by its longest phrase."""
        # Feeds repeat the same few locations and categories thousands of times.
        found = self._seen.get(text)
        if found is None:
            found = self._all_in(text)
            if len(self._seen) < MAX_REMEMBERED:
                self._seen[text] = found
        return found

    def _all_in(self, text: str) -> FrozenSet[str]:
        padded = f" {normalise(text)} "
        found = set()
        for phrase, term_id in self._longest_first:
            needle = f" {phrase} "
            if needle in padded:
                found.add(term_id)
                padded = padded.replace(needle, " | ")
        return frozenset(found)

    def label(self, term_id: str) -> str:
        return self.terms[term_id].label


@dataclass(frozen=True)
class Vocabulary:
    families: Lookup
    places: Lookup
    any_family: FrozenSet[str]
    anywhere: FrozenSet[str]
    multiple: Lookup

    @classmethod
    def load(cls, path: Path = VOCABULARY_FILE) -> Vocabulary:
        try:
            document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
            return cls(
                families=Lookup(_terms(document, "job_families")),
                places=Lookup(_terms(document, "locations")),
                any_family=frozenset(normalise(w) for w in _words(document, "any_family")),
                anywhere=frozenset(normalise(w) for w in _words(document, "anywhere")),
                multiple=Lookup(
                    [Term(MULTIPLE, "Multiple locations", _phrases(document, "multiple_locations"))]
                ),
            )
        except (OSError, YAMLError, AttributeError, TypeError, ValueError) as error:
            raise VocabularyError(f"{path}: {error}") from error

    def family(self, value: str) -> str | None:
        """An applicant's words for a job family -> its id, ANY, or None (not a family)."""
        text = normalise(value)
        if text in self.any_family:
            return ANY
        return self.families.exact(text) or self.families.best(text)

    def place(self, value: str) -> str | None:
        """An applicant's words for a place -> its id, ANYWHERE, or None (a place we don't know)."""
        text = normalise(value)
        if text in self.anywhere:
            return ANYWHERE
        return self.places.exact(text) or self.places.best(text)


def _terms(document: Dict[str, Any], key: str) -> List[Term]:
    section = document.get(key)
    if not isinstance(section, dict) or not section:
        raise ValueError(f"'{key}' must map ids to a label and words")
    terms = []
    for term_id, entry in section.items():
        label = str(entry.get("label") or term_id)
        if len(label) > MAX_LABEL_CHARS:
            raise ValueError(f"{key}.{term_id}: label {label!r} is over {MAX_LABEL_CHARS} chars")
        phrases = tuple(normalise(str(w)) for w in entry.get("words") or [])
        terms.append(Term(str(term_id), label, (normalise(str(term_id)), *phrases)))
    return terms


def _words(document: Dict[str, Any], key: str) -> List[str]:
    words = document.get(key) or []
    if not isinstance(words, list):
        raise ValueError(f"'{key}' must be a list of words")
    return [str(word) for word in words]


def _phrases(document: Dict[str, Any], key: str) -> Tuple[str, ...]:
    return tuple(normalise(word) for word in _words(document, key))


_loaded: Vocabulary | None = None
_lock = threading.Lock()


def shared_vocabulary() -> Vocabulary:
    """Read once per process, on first use."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = Vocabulary.load()
        return _loaded
