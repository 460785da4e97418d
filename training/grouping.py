"""Near-duplicate messages grouped into one, so a trainer sees "can i apply at 17" once, x 40.

Two messages are near-duplicates when, after case, punctuation and spacing are normalised, the
sets of their words overlap by at least a threshold (Jaccard similarity). Candidates are found
with prefix filtering: two sets that similar must share one of the first few words of each in
a fixed word order, so a message is compared with a handful of groups, not all of them. Common
words come last in that order, so they rarely make candidates.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Generic, Iterator, List, Tuple, TypeVar

DEFAULT_SIMILARITY = 0.75
# Words too common to say two messages are alike; they sort last in the prefix order.
_COMMON = """a an and are as at be can could do does for from have how i if in is it me my of
    on or so that the there this to was what when where which who why will with would you your
    im ive id please hi hello hey thanks"""
COMMON_WORDS = frozenset(_COMMON.split())
# Words, and placeholders such as [email] (after casefolding) as words of their own.
WORD = re.compile(r"\[[a-z_]+\]|\w+")

T = TypeVar("T")


def normalise(text: str) -> str:
    """Case, accents' forms, apostrophes, punctuation and spacing ignored; placeholders kept."""
    plain = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    words = WORD.findall(plain)
    return " ".join(words) if words else " ".join(plain.split())


def key_of(text: str) -> str:
    """The stable identity of a message (and of everything that normalises the same)."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def words_of(normalised: str) -> FrozenSet[str]:
    return frozenset(normalised.split()) or frozenset({normalised})


def jaccard(a: FrozenSet[str], b: FrozenSet[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _order(word: str) -> Tuple[bool, str]:
    return (word in COMMON_WORDS, word)


def _prefix(words: FrozenSet[str], threshold: float) -> List[str]:
    ordered = sorted(words, key=_order)
    length = len(ordered) - math.ceil(threshold * len(ordered)) + 1
    return ordered[: max(1, length)]


@dataclass
class Group(Generic[T]):
    """Messages that are near-duplicates of the first one (the representative)."""

    key: str
    text: str
    words: FrozenSet[str]
    members: List[T] = field(default_factory=list)
    count: int = 0

    def add(self, member: T, keep: int) -> None:
        self.count += 1
        if len(self.members) < keep:
            self.members.append(member)


class NearDuplicates(Generic[T]):
    """Groups texts as they arrive; memory grows with the number of groups, not of texts."""

    def __init__(self, threshold: float = DEFAULT_SIMILARITY, keep_members: int = 0) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("the similarity threshold must be more than 0 and at most 1")
        self.threshold = threshold
        self.keep_members = keep_members
        self.groups: List[Group[T]] = []
        self._exact: Dict[str, Group[T]] = {}
        self._index: Dict[str, List[Group[T]]] = {}
        self.comparisons = 0

    def find(self, text: str) -> Group[T] | None:
        """The group `text` belongs to, if there is one."""
        normalised = normalise(text)
        exact = self._exact.get(normalised)
        if exact is not None:
            return exact
        return self._similar(words_of(normalised))

    def add(self, text: str, member: T) -> Group[T]:
        normalised = normalise(text)
        group = self._exact.get(normalised)
        words = words_of(normalised)
        if group is None:
            group = self._similar(words)
        if group is None:
            group = Group(key_of(text), text, words)
            self.groups.append(group)
            self._exact[normalised] = group
            for word in _prefix(words, self.threshold):
                self._index.setdefault(word, []).append(group)
        group.add(member, self.keep_members)
        return group

    def _similar(self, words: FrozenSet[str]) -> Group[T] | None:
        seen = set()
        best: Tuple[float, Group[T]] | None = None
        for word in _prefix(words, self.threshold):
            for group in self._index.get(word, ()):
                if id(group) in seen:
                    continue
                seen.add(id(group))
                self.comparisons += 1
                score = jaccard(words, group.words)
                if score >= self.threshold and (best is None or score > best[0]):
                    best = (score, group)
        return best[1] if best else None

    def __iter__(self) -> Iterator[Group[T]]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)


def counted(values: Counter) -> str:
    """ "fell back x3, handoff" from a Counter, most common first."""
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in values.most_common())
