"""The trainers' inbox itself: missed messages, redacted (training/redaction.py), with what
trainers already decided left out, and near-duplicates grouped, most asked first."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Sequence

from sqlalchemy.engine import make_url

from privacy.tracker_events import tracker_engine
from training.grouping import DEFAULT_SIMILARITY, NearDuplicates, counted
from training.missed_messages import DEFAULT_CONFIDENCE, Flags, Followed, Turn, missed_messages
from training.tracker_events import DEFAULT_PAGE_SIZE, EventPages

REDACTION_CACHE = 10_000


@dataclass
class InboxItem:
    """A group of near-duplicate messages, as a trainer sees it."""

    key: str
    text: str
    count: int = 0
    topics: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    confidence_sum: float = 0.0
    confidence_count: int = 0
    first_at: float = 0.0
    last_at: float = 0.0

    @property
    def topic(self) -> str:
        named = [(topic, n) for topic, n in self.topics.most_common() if topic]
        return named[0][0] if named else ""

    @property
    def confidence(self) -> float | None:
        """The average confidence over the group's messages."""
        if not self.confidence_count:
            return None
        return self.confidence_sum / self.confidence_count

    @property
    def reason(self) -> str:
        return counted(self.reasons)

    def add(self, turn: Turn) -> None:
        self.count += 1
        self.topics[turn.topic] += 1
        for reason in turn.reasons:
            self.reasons[reason] += 1
        if turn.confidence is not None:
            self.confidence_sum += turn.confidence
            self.confidence_count += 1
        self.first_at = min(self.first_at or turn.at, turn.at)
        self.last_at = max(self.last_at, turn.at)

    def as_row(self) -> Dict[str, Any]:
        return {
            "text": self.text,
            "count": self.count,
            "topic": self.topic,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "reasons": self.reason,
            "first_seen": _iso(self.first_at),
            "last_seen": _iso(self.last_at),
            "key": self.key,
        }


@dataclass
class Inbox:
    items: List[InboxItem]
    groups: int = 0
    messages: int = 0
    excluded: int = 0
    pages: int = 0
    rows: int = 0
    largest_page: int = 0
    peak_conversations: int = 0


@dataclass(frozen=True)
class InboxQuery:
    since: float | None = None
    confidence: float = DEFAULT_CONFIDENCE
    similarity: float = DEFAULT_SIMILARITY
    page_size: int = DEFAULT_PAGE_SIZE
    limit: int | None = None


class _Redactions:
    """redact() with a small cache: "hi" and "yes" come thousands of times."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self._redact = redact
        self._cache: OrderedDict[str, str] = OrderedDict()

    def __call__(self, text: str) -> str:
        done = self._cache.get(text)
        if done is None:
            done = self._redact(text)
            self._cache[text] = done
            if len(self._cache) > REDACTION_CACHE:
                self._cache.popitem(last=False)
        return done


def build_inbox(
    turns: Iterable[Turn],
    decided_texts: Sequence[str] = (),
    similarity: float = DEFAULT_SIMILARITY,
    limit: int | None = None,
    redact: Callable[[str], str] | None = None,
) -> Inbox:
    """Redact, leave out what trainers already decided, group near-duplicates, most asked first."""
    if redact is None:
        from training.redaction import redact as redact_with_spacy

        redact = redact_with_spacy
    redacted = _Redactions(redact)
    decided: NearDuplicates[None] = NearDuplicates(similarity)
    for text in decided_texts:
        decided.add(text, None)
    groups: NearDuplicates[None] = NearDuplicates(similarity)
    items: Dict[str, InboxItem] = {}
    inbox = Inbox(items=[])
    for turn in turns:
        inbox.messages += 1
        text = redacted(turn.text)
        if decided.find(text) is not None:
            inbox.excluded += 1
            continue
        group = groups.add(text, None)
        item = items.get(group.key)
        if item is None:
            item = items[group.key] = InboxItem(group.key, group.text)
        item.add(turn)
    ordered = sorted(items.values(), key=lambda item: (-item.count, -item.last_at))
    inbox.groups = len(ordered)
    inbox.items = ordered[:limit] if limit else ordered
    return inbox


def inbox_from_tracker(
    tracker_url: str, query: InboxQuery, decided_texts: Sequence[str], flags: Flags
) -> Inbox:
    """The inbox from the tracker store at `tracker_url`, given what trainers decided and
    the messages recruiters flagged (both the desk's: desk/training_inbox.py)."""
    if missing_sqlite_file(tracker_url):
        return Inbox(items=[])  # no conversation yet; connecting would create the file
    tracker = tracker_engine(tracker_url)
    try:
        pages = EventPages(tracker, page_size=query.page_size, since=query.since)
        followed = Followed()
        turns = missed_messages(pages, query.confidence, flags, followed=followed)
        inbox = build_inbox(turns, decided_texts, query.similarity, query.limit)
        inbox.pages, inbox.rows, inbox.largest_page = pages.pages, pages.rows, pages.largest_page
        inbox.peak_conversations = followed.peak_conversations
        return inbox
    finally:
        tracker.dispose()


def missing_sqlite_file(url: str) -> bool:
    """Is `url` a SQLite file that does not exist (and connecting would create)?"""
    parsed = make_url(url)
    database = parsed.database or ""
    in_memory = not database or database == ":memory:" or database.startswith("file:")
    return parsed.get_backend_name() == "sqlite" and not in_memory and not Path(database).exists()


def _iso(epoch: float) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
