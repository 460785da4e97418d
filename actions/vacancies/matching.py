"""Which open vacancies match what the applicant asked for, soonest closing first.

The feed is indexed once when it is fetched, in the fetching thread: families, places and search
text worked out per posting, sorted by closing date, with positions by family and by place. A
search then bisects away the closed postings and intersects positions, fast enough to run in the
event loop on a feed of thousands of postings.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, FrozenSet, Iterable, List, Sequence, Tuple

from actions.vacancies.model import Vacancy
from actions.vacancies.vocabulary import (
    ANY,
    ANYWHERE,
    MULTIPLE,
    REMOTE,
    Vocabulary,
    normalise,
)

MAX_KEYWORD_CHARS = 60
# Words that say "a job" rather than which job: "part time jobs" searches for "part time".
FILLER_WORDS = frozenset(
    {"a", "an", "and", "any", "are", "for", "in", "job", "jobs", "of", "on", "only", "or",
     "post", "posts", "position", "positions", "role", "roles", "the", "vacancy", "vacancies",
     "opening", "openings", "work"}
)  # fmt: skip


@dataclass(frozen=True)
class Indexed:
    vacancy: Vacancy
    families: FrozenSet[str]
    places: FrozenSet[str]
    place_text: str  # normalised, padded with spaces: for places the vocabulary doesn't know
    text: str  # normalised title, description, category, places and employment types, padded
    closes_at: float  # POSIX time; infinity when the feed gives no closing date


@dataclass(frozen=True)
class Catalogue:
    """The feed's postings sorted by closing date, with positions by family and by place."""

    entries: Tuple[Indexed, ...]
    skipped: int = 0
    closing: Tuple[float, ...] = ()  # entries' closes_at, for bisecting away the closed ones
    by_family: Dict[str, Tuple[int, ...]] = field(default_factory=dict)
    by_place: Dict[str, Tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, vacancies: Iterable[Vacancy], vocabulary: Vocabulary, skipped: int = 0
    ) -> Catalogue:
        entries = [_index(vacancy, vocabulary) for vacancy in vacancies]
        entries.sort(key=lambda e: (e.closes_at, e.vacancy.title.lower()))
        by_family: Dict[str, List[int]] = defaultdict(list)
        by_place: Dict[str, List[int]] = defaultdict(list)
        for position, entry in enumerate(entries):
            for family in entry.families:
                by_family[family].append(position)
            for place in entry.places:
                by_place[place].append(position)
        return cls(
            entries=tuple(entries),
            skipped=skipped,
            closing=tuple(entry.closes_at for entry in entries),
            by_family={name: tuple(positions) for name, positions in by_family.items()},
            by_place={name: tuple(positions) for name, positions in by_place.items()},
        )

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class Query:
    family: str | None = None  # a family id; None for any
    place: str | None = None  # a place id, or the normalised name of a place we don't know
    place_label: str = ""
    place_known: bool = False  # one of the vocabulary's places, not just a name
    keyword: str = ""  # as the applicant wrote it, tidied
    keyword_terms: Tuple[str, ...] = ()

    @property
    def narrowed(self) -> bool:
        return bool(self.family or self.place or self.keyword_terms)


def make_query(
    vocabulary: Vocabulary,
    family: str | None,
    place: str | None,
    keyword: str | None,
) -> Query:
    """Understand slot values; a family word we don't know becomes a keyword instead."""
    family_id = vocabulary.family(family) if family else None
    words = keyword or ""
    if family and family_id is None and not words:
        words = family
    place_id, place_label, known = None, "", False
    if place:
        found = vocabulary.place(place)
        if found == ANYWHERE:
            place_id = None
        elif found:
            place_id, place_label, known = found, vocabulary.places.label(found), True
        elif normalise(place):
            place_id, place_label = normalise(place), " ".join(place.split())[:40].title()
    words = " ".join(words.split())[:MAX_KEYWORD_CHARS]
    return Query(
        family=None if family_id in (None, ANY) else family_id,
        place=place_id,
        place_label=place_label,
        place_known=known,
        keyword=words if keyword_terms(words) else "",
        keyword_terms=keyword_terms(words),
    )


def keyword_terms(words: str) -> Tuple[str, ...]:
    terms = []
    for word in normalise(words).split():
        if word in FILLER_WORDS:
            continue
        # Plurals match singulars: every term matches the start of a word.
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        terms.append(word)
    return tuple(terms)


def search(catalogue: Catalogue, query: Query, now: datetime) -> List[Vacancy]:
    """Open vacancies matching every part of the query, soonest closing first."""
    first_open = bisect_left(catalogue.closing, now.timestamp())
    positions: Sequence[int] = range(first_open, len(catalogue.entries))
    if query.family:
        positions = _from(catalogue.by_family.get(query.family, ()), first_open)
    if query.place and query.place_known:
        in_place = set(catalogue.by_place.get(query.place, ()))
        if query.place != REMOTE:  # roles offered at several offices are offered there too
            in_place.update(catalogue.by_place.get(MULTIPLE, ()))
        positions = [p for p in positions if p in in_place]
    entries = catalogue.entries
    if query.place and not query.place_known:
        needle = f" {query.place} "
        positions = [p for p in positions if needle in entries[p].place_text]
    if query.keyword_terms:
        # The keyword as a phrase, each word matching the start of a word: "part time" finds
        # "part-time" and "part timers" but not "Partner ... full time".
        needle = f" {' '.join(query.keyword_terms)}"
        positions = [p for p in positions if needle in entries[p].text]
    return [entries[p].vacancy for p in positions]


def _from(positions: Tuple[int, ...], first: int) -> Tuple[int, ...]:
    return positions[bisect_left(positions, first) :]


def _index(vacancy: Vacancy, vocabulary: Vocabulary) -> Indexed:
    families = _families(vacancy, vocabulary)
    places: set[str] = set()
    for name in vacancy.locations:
        places |= vocabulary.places.all_in(name)
    if vacancy.remote:
        places.add(REMOTE)
    if not places - {REMOTE} and (
        len(vacancy.locations) > 3
        or any(vocabulary.multiple.all_in(name) for name in vacancy.locations)
    ):
        places.add(MULTIPLE)
    place_text = normalise(" ".join(vacancy.locations))
    text = " ".join(
        [
            vacancy.title,
            vacancy.category,
            vacancy.description,
            " ".join(vacancy.locations),
            " ".join(vacancy.employment_types),
        ]
    )
    closes = vacancy.closes.timestamp() if vacancy.closes else math.inf
    return Indexed(
        vacancy=vacancy,
        families=families,
        places=frozenset(places),
        place_text=f" {place_text} ",
        text=f" {normalise(text)} ",
        closes_at=closes,
    )


def _families(vacancy: Vacancy, vocabulary: Vocabulary) -> FrozenSet[str]:
    """From the feed's category (all families it names), else the title's best match."""
    from_category = vocabulary.families.all_in(vacancy.category) if vacancy.category else None
    if from_category:
        return from_category
    best = vocabulary.families.best(vacancy.title)
    return frozenset({best}) if best else frozenset()
