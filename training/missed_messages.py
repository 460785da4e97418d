"""Which applicant messages the inbox is for: the ones the assistant fell back on, understood
with low confidence, handed over to a recruiter, or a recruiter flagged.

Each conversation is followed only as far as needed: the last few messages of each applicant
active recently, so memory stays bounded by the number of conversations in progress, never by
the size of the tracker store (read page by page, training/tracker_events.py).
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterable, Iterator, List, Tuple

from training.tracker_events import ACTION, USER, Event

DEFAULT_CONFIDENCE = 0.6
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
    for event in events:
        conversation = conversations.pop(event.sender_id, None) or _Conversation(
            deque(maxlen=QUESTION_LOOKBACK)
        )
        conversations[event.sender_id] = conversation  # now the most recently active
        followed.peak_conversations = max(followed.peak_conversations, len(conversations))
        at = event.timestamp or 0.0
        conversation.last_at = at
        if event.type_name == USER:
            turn = _user_turn(event, at, confidence, flags)
            conversation.current = turn
            if turn is not None:
                if len(conversation.turns) == conversation.turns.maxlen:
                    yield from _selected(conversation.turns.popleft())
                conversation.turns.append(turn)
        elif event.type_name == ACTION:
            _after_action(event.action_name or "", conversation)
        yield from _forgotten(conversations, at - idle_s, max_conversations)
    for conversation in conversations.values():
        yield from _finished(conversation)
    for flag in flags.unmatched():
        yield Turn(flag.sender_id, flag.at, flag.text, "", "", None, {FLAGGED})


def _user_turn(event: Event, at: float, confidence: float, flags: Flags) -> Turn | None:
    """The applicant's message with the reasons known so far; None for a button's payload."""
    data = event.parsed()
    text = str(data.get("text") or "").strip()
    if not text or PAYLOAD.match(text):
        return None
    intent, topic, score = prediction(data.get("parse_data") or {})
    turn = Turn(event.sender_id, at, text, intent, topic, score)
    if (event.intent_name or intent) == FALLBACK_INTENT:
        turn.reasons.add(FELL_BACK)
    if score is not None and score < confidence:
        turn.reasons.add(LOW_CONFIDENCE)
    if flags.match(event.sender_id, at):
        turn.reasons.add(FLAGGED)
    return turn


def _after_action(action: str, conversation: _Conversation) -> None:
    """A fallback marks the message it answered; a hand-over, the question behind it."""
    if action in FALLBACK_ACTIONS and conversation.current is not None:
        conversation.current.reasons.add(FELL_BACK)
    elif action == HANDOFF_ACTION:
        for turn in reversed(conversation.turns):
            if turn.intent not in SMALL_TALK:
                turn.reasons.add(HANDOFF)
                break


def _forgotten(
    conversations: OrderedDict[str, _Conversation], quiet_before: float, max_conversations: int
) -> Iterator[Turn]:
    """Forget conversations that have gone quiet (the front is the least recently active)."""
    while conversations:
        oldest_sender, oldest = next(iter(conversations.items()))
        if oldest.last_at >= quiet_before and len(conversations) <= max_conversations:
            break
        del conversations[oldest_sender]
        yield from _finished(oldest)


def _finished(conversation: _Conversation) -> Iterator[Turn]:
    while conversation.turns:
        yield from _selected(conversation.turns.popleft())


def _selected(turn: Turn) -> Iterator[Turn]:
    """The turn, if it is for the inbox; "fell back" says all "low confidence" would."""
    if FELL_BACK in turn.reasons:
        turn.reasons.discard(LOW_CONFIDENCE)
    if turn.reasons:
        yield turn
