"""The trainers' inbox: real applicant messages the assistant got wrong, redacted and grouped.

A message is in the inbox when the assistant fell back on it (intent `nlu_fallback`, or it was
answered by a fallback action such as `action_not_understood`), understood it with low
confidence, when it was the question behind a hand-over to a recruiter, or when a recruiter
flagged it on the desk. Messages a trainer has labelled or ignored (and their near-duplicates)
are left out.

The tracker store is read page by page (training/tracker_events.py) and each conversation is
followed only as far as needed: the last few messages of each applicant active recently, so
memory stays bounded by the number of conversations in progress and of distinct missed
questions, never by the size of the store. Text is redacted (training/redaction.py) before it
is grouped, shown or exported.

    python -m training.inbox [--since DAYS] [--limit N] [--export FILE.csv|FILE.jsonl]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Sequence, Tuple

from desk.settings import database_url
from desk.storage import make_engine
from desk.training_store import TrainingStore
from training.grouping import DEFAULT_SIMILARITY, NearDuplicates, counted
from training.tracker_events import ACTION, DEFAULT_PAGE_SIZE, USER, Event, EventPages

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIDENCE = 0.6
DEFAULT_SINCE_DAYS = 30.0

FELL_BACK, LOW_CONFIDENCE, HANDOFF, FLAGGED = "fell back", "low confidence", "handoff", "flagged"
REASONS = (FELL_BACK, LOW_CONFIDENCE, HANDOFF, FLAGGED)
FALLBACK_INTENT = "nlu_fallback"
# Actions that mean "I did not answer on a topic": the project's own (off-topic included, so
# a careers question taken for off-topic is seen) and Rasa's built-in ones.
FALLBACK_ACTIONS = frozenset(
    {
        "action_not_understood",
        "action_off_topic",
        "action_default_fallback",
        "action_two_stage_fallback",
        "action_default_ask_affirmation",
        "action_default_ask_rephrase",
        "utter_default",
        "utter_ask_rephrase",
        "utter_rephrase",
    }
)
HANDOFF_ACTION = "action_handoff_to_recruiter"
# As in actions/handoff.py: the messages that say nothing about what the applicant wants, and
# how far back the hand-over looks for the question.
SMALL_TALK = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help", "request_human"}
)
QUESTION_LOOKBACK = 3
# Buttons and quick replies send intents ("/affirm") or topics ("faq/process_vetting"), not words.
PAYLOAD = re.compile(r"^\s*(?:/|faq/[a-z0-9_]+\s*$)")
# A conversation quiet this long (by the store's own clock) is done with, and forgotten.
IDLE_S = 3600.0
MAX_CONVERSATIONS = 100_000
REDACTION_CACHE = 10_000


@dataclass(frozen=True)
class InboxSettings:
    """Where the inbox reads from and its defaults, from environment variables."""

    tracker_url: str
    desk_url: str
    since_days: float | None = DEFAULT_SINCE_DAYS
    confidence: float = DEFAULT_CONFIDENCE
    similarity: float = DEFAULT_SIMILARITY
    page_size: int = DEFAULT_PAGE_SIZE
    # Where labelled examples are written (the project's data/ unless set; tests use a copy).
    data_dir: Path = ROOT / "data"

    @classmethod
    def from_env(cls) -> InboxSettings:
        since = float(os.environ.get("INBOX_SINCE_DAYS", DEFAULT_SINCE_DAYS))
        return cls(
            tracker_url=tracker_database_url(),
            desk_url=database_url(),
            since_days=since if since > 0 else None,
            confidence=float(os.environ.get("INBOX_CONFIDENCE", DEFAULT_CONFIDENCE)),
            similarity=float(os.environ.get("INBOX_SIMILARITY", DEFAULT_SIMILARITY)),
            page_size=int(os.environ.get("INBOX_PAGE_SIZE", DEFAULT_PAGE_SIZE)),
            data_dir=Path(os.environ.get("TRAINING_DATA_DIR") or ROOT / "data"),
        )


def tracker_database_url(endpoints: Path = ROOT / "endpoints.yml") -> str:
    """TRACKER_DB_URL; else the desk's database (which is the tracker store's); else the SQLite
    file endpoints.yml names."""
    for name in ("TRACKER_DB_URL", "DESK_DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    from ruamel.yaml import YAML

    try:
        config = YAML(typ="safe").load(endpoints.read_text(encoding="utf-8")) or {}
    except OSError:
        config = {}
    store = config.get("tracker_store") or {}
    if str(store.get("dialect") or "sqlite") == "sqlite" and store.get("db"):
        path = Path(str(store["db"]))
        return f"sqlite:///{path if path.is_absolute() else ROOT / path}"
    return f"sqlite:///{ROOT / 'var' / 'tracker.db'}"


# Reading the conversations


@dataclass
class Turn:
    """One applicant message and what became of it."""

    sender_id: str
    at: float
    text: str
    intent: str
    topic: str
    confidence: float | None
    reasons: set = field(default_factory=set)


def prediction(parse: Dict[str, Any]) -> Tuple[str, str, float | None]:
    """(intent, topic, confidence) the NLU gave a message: for an FAQ question the topic is
    faq/<topic> from the response selector, and the confidence the lower of the two; for a
    fallback, what it would have been."""
    intent = parse.get("intent") or {}
    name, confidence = str(intent.get("name") or ""), intent.get("confidence")
    if name == FALLBACK_INTENT:
        for ranked in parse.get("intent_ranking") or []:
            if ranked.get("name") and ranked.get("name") != FALLBACK_INTENT:
                name, confidence = str(ranked["name"]), ranked.get("confidence")
                break
    topic = name
    selectors = parse.get("response_selector") or {}
    if name in (selectors.get("all_retrieval_intents") or []) or name in selectors:
        selector = selectors.get(name) or selectors.get("default") or {}
        response = selector.get("response") or {}
        key = response.get("intent_response_key")
        if key:
            topic = str(key)
            if response.get("confidence") is not None:
                selected = float(response["confidence"])
                confidence = selected if confidence is None else min(float(confidence), selected)
    return name, topic, None if confidence is None else float(confidence)


@dataclass
class _Conversation:
    turns: Deque[Turn]
    current: Turn | None = None
    last_at: float = 0.0


@dataclass(frozen=True)
class FlaggedMessage:
    sender_id: str
    at: float
    text: str


class Flags:
    """Messages recruiters flagged, found again in the store by sender and time."""

    def __init__(self, flagged: Iterable[FlaggedMessage] = (), tolerance_s: float = 0.002):
        self.tolerance_s = tolerance_s
        self._by_sender: Dict[str, List[FlaggedMessage]] = {}
        for flag in flagged:
            self._by_sender.setdefault(flag.sender_id, []).append(flag)
        self._matched: set = set()

    def match(self, sender_id: str, at: float) -> bool:
        for flag in self._by_sender.get(sender_id, ()):
            if abs(flag.at - at) <= self.tolerance_s:
                self._matched.add(flag)
                return True
        return False

    def unmatched(self) -> Iterator[FlaggedMessage]:
        """Flags whose message is no longer in the store (or outside the period): their text."""
        for flagged in self._by_sender.values():
            for flag in flagged:
                if flag not in self._matched:
                    yield flag


@dataclass
class Followed:
    """How many conversations were followed at once at most (memory is bounded by this)."""

    peak_conversations: int = 0


def missed_messages(
    events: Iterable[Event],
    confidence: float = DEFAULT_CONFIDENCE,
    flags: Flags | None = None,
    idle_s: float = IDLE_S,
    max_conversations: int = MAX_CONVERSATIONS,
    followed: Followed | None = None,
) -> Iterator[Turn]:
    """The applicant messages the inbox is for, as soon as nothing later can change them."""
    flags = flags or Flags()
    followed = followed if followed is not None else Followed()
    conversations: OrderedDict[str, _Conversation] = OrderedDict()

    def finished(conversation: _Conversation) -> Iterator[Turn]:
        while conversation.turns:
            yield from _selected(conversation.turns.popleft())

    for event in events:
        conversation = conversations.pop(event.sender_id, None) or _Conversation(
            deque(maxlen=QUESTION_LOOKBACK)
        )
        conversations[event.sender_id] = conversation  # now the most recently active
        followed.peak_conversations = max(followed.peak_conversations, len(conversations))
        at = event.timestamp or 0.0
        conversation.last_at = at
        if event.type_name == USER:
            data = event.parsed()
            text = str(data.get("text") or "").strip()
            if not text or PAYLOAD.match(text):
                conversation.current = None
            else:
                intent, topic, score = prediction(data.get("parse_data") or {})
                turn = Turn(event.sender_id, at, text, intent, topic, score)
                if (event.intent_name or intent) == FALLBACK_INTENT:
                    turn.reasons.add(FELL_BACK)
                if score is not None and score < confidence:
                    turn.reasons.add(LOW_CONFIDENCE)
                if flags.match(event.sender_id, at):
                    turn.reasons.add(FLAGGED)
                if len(conversation.turns) == conversation.turns.maxlen:
                    yield from _selected(conversation.turns.popleft())
                conversation.turns.append(turn)
                conversation.current = turn
        elif event.type_name == ACTION:
            action = event.action_name or ""
            if action in FALLBACK_ACTIONS and conversation.current is not None:
                conversation.current.reasons.add(FELL_BACK)
            elif action == HANDOFF_ACTION:
                for turn in reversed(conversation.turns):
                    if turn.intent not in SMALL_TALK:
                        turn.reasons.add(HANDOFF)
                        break
        # Forget conversations that have gone quiet (the front is the least recently active).
        while conversations:
            oldest_sender, oldest = next(iter(conversations.items()))
            quiet = oldest.last_at < at - idle_s
            if not quiet and len(conversations) <= max_conversations:
                break
            del conversations[oldest_sender]
            yield from finished(oldest)
    for conversation in conversations.values():
        yield from finished(conversation)
    for flag in flags.unmatched():
        yield Turn(flag.sender_id, flag.at, flag.text, "", "", None, {FLAGGED})


def _selected(turn: Turn) -> Iterator[Turn]:
    """The turn, if it is for the inbox; "fell back" says all "low confidence" would."""
    if FELL_BACK in turn.reasons:
        turn.reasons.discard(LOW_CONFIDENCE)
    if turn.reasons:
        yield turn


# Grouping and the result


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


def collect(settings: InboxSettings, query: InboxQuery) -> Inbox:
    """The inbox from the tracker store and the desk's decisions and flags."""
    if _missing_sqlite_file(settings.tracker_url):
        return Inbox(items=[])  # no conversation yet; connecting would create the file
    tracker = make_engine(settings.tracker_url)
    desk = tracker
    if settings.desk_url != settings.tracker_url:
        # A desk that never ran has no decisions or flags (and reading creates no file).
        desk = None if _missing_sqlite_file(settings.desk_url) else make_engine(settings.desk_url)
    try:
        training = TrainingStore(desk) if desk is not None else None
        decided = [decision.text for decision in training.decisions()] if training else []
        flags = Flags(
            FlaggedMessage(flag.sender_id, flag.message_at, flag.text)
            for flag in (training.flags(query.since) if training else [])
        )
        pages = EventPages(tracker, page_size=query.page_size, since=query.since)
        followed = Followed()
        turns = missed_messages(pages, query.confidence, flags, followed=followed)
        inbox = build_inbox(turns, decided, query.similarity, query.limit)
        inbox.pages, inbox.rows, inbox.largest_page = pages.pages, pages.rows, pages.largest_page
        inbox.peak_conversations = followed.peak_conversations
        return inbox
    finally:
        tracker.dispose()
        if desk is not None and desk is not tracker:
            desk.dispose()


def _missing_sqlite_file(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    in_memory = not database or database == ":memory:" or database.startswith("file:")
    return parsed.get_backend_name() == "sqlite" and not in_memory and not Path(database).exists()


# Output


def _iso(epoch: float) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def export(inbox: Inbox, path: Path) -> None:
    rows = [item.as_row() for item in inbox.items]
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: export to a .csv or a .jsonl file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        if suffix == ".csv":
            writer = csv.DictWriter(out, fieldnames=list(InboxItem("", "").as_row()))
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def table(inbox: Inbox) -> str:
    """A plain-text table, most asked first; each message whole, on one line."""
    if not inbox.items:
        return "Nothing in the inbox: no missed messages in this period."
    header = f"{'#':>3} {'count':>5}  {'reasons':<26} {'topic':<32} {'conf':>5}  message"
    lines = [header, "-" * 100]
    for number, item in enumerate(inbox.items, 1):
        confidence = "" if item.confidence is None else f"{item.confidence:.2f}"
        text = " ".join(item.text.split())
        lines.append(
            f"{number:>3} {item.count:>5}  {_cut(item.reason, 26):<26} {_cut(item.topic, 32):<32} "
            f"{confidence:>5}  {text}"
        )
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(inbox: Inbox) -> str:
    return (
        f"{inbox.rows} events read in {inbox.pages} pages; {inbox.messages} missed messages in "
        f"{inbox.groups} groups ({inbox.excluded} left out: already labelled or ignored); "
        f"showing {len(inbox.items)}."
    )


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m training.inbox",
        description="Applicant messages the assistant fell back on, answered with low "
        "confidence, handed to a recruiter or that a recruiter flagged; redacted and grouped.",
    )
    parse.add_argument(
        "--since", type=float, metavar="DAYS", help="messages of the last DAYS days (0: all)"
    )
    parse.add_argument("--limit", type=int, metavar="N", help="at most N groups, most asked first")
    parse.add_argument("--export", type=Path, metavar="FILE", help="write FILE.csv or FILE.jsonl")
    parse.add_argument(
        "--confidence",
        type=float,
        metavar="P",
        help=f"below this is low confidence (default {DEFAULT_CONFIDENCE})",
    )
    parse.add_argument(
        "--similarity",
        type=float,
        metavar="S",
        help=f"word overlap that makes near-duplicates (default {DEFAULT_SIMILARITY})",
    )
    parse.add_argument("--page-size", type=int, metavar="N", help="events read per query")
    parse.add_argument("--db-url", help="the tracker store (default: TRACKER_DB_URL, ...)")
    parse.add_argument("--desk-db-url", help="the desk's database (default: DESK_DATABASE_URL)")
    return parse


def main(argv: Sequence[str] | None = None, now: Callable[[], float] = time.time) -> int:
    args = parser().parse_args(argv)
    settings = InboxSettings.from_env()
    since_days = settings.since_days if args.since is None else (args.since or None)
    if args.limit is not None and args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    if args.export and args.export.suffix.lower() not in (".csv", ".jsonl"):
        print(f"--export {args.export}: give a .csv or a .jsonl file", file=sys.stderr)
        return 2
    query = InboxQuery(
        since=None if since_days is None else now() - since_days * 86400,
        confidence=settings.confidence if args.confidence is None else args.confidence,
        similarity=settings.similarity if args.similarity is None else args.similarity,
        page_size=args.page_size or settings.page_size,
        limit=args.limit if args.limit or args.export else 50,
    )
    if not 0 < query.similarity <= 1 or query.page_size < 1:
        print("--similarity must be in (0, 1] and --page-size at least 1", file=sys.stderr)
        return 2
    tracker_url = args.db_url or settings.tracker_url
    desk_url = args.desk_db_url or (args.db_url if args.db_url else settings.desk_url)
    try:
        inbox = collect(
            InboxSettings(tracker_url=tracker_url, desk_url=desk_url, data_dir=settings.data_dir),
            query,
        )
    except FileNotFoundError as error:  # the spaCy pipeline is missing
        print(str(error), file=sys.stderr)
        return 1
    except Exception as error:  # a bad URL or an unreachable database
        print(f"Cannot read the tracker store at {_safe(tracker_url)}: {error}", file=sys.stderr)
        return 1
    if args.export:
        export(inbox, args.export)
        print(f"{len(inbox.items)} groups written to {args.export}", file=sys.stderr)
    else:
        print(table(inbox))
    print(summary(inbox), file=sys.stderr)
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


if __name__ == "__main__":
    sys.exit(main())
