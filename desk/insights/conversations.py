"""What one applicant's stored events say, conversation by conversation, with no text kept.

A conversation is one Rasa session of one applicant: it starts at a `session_started` event
(or the applicant's first event) and belongs, whole, to the local day of its first applicant
message, so a day's figures add up exactly over any range. Its key is the id of its first
stored event: not the sender id, and meaningless once the raw events are purged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Sequence
from zoneinfo import ZoneInfo

from contracts.safety import SAFETY_INTENTS

OFF_TOPIC = "out_of_scope"
NOT_UNDERSTOOD = "nlu_fallback"
DID_YOU_MEAN = "utter_did_you_mean"
HANDOFF_ACTION = "action_handoff_to_recruiter"
SEARCH_ACTION = "action_search_vacancies"
SESSION_START_ACTION = "action_session_start"
SEARCH_INTENT = "search_vacancies"
SHOWN_SLOT = "vacancies_shown"
# Not topics: they have figures of their own (off-topic, not understood, safety).
NOT_TOPICS = frozenset({OFF_TOPIC, NOT_UNDERSTOOD, *SAFETY_INTENTS})
UNKNOWN_CHANNEL = "unknown"
ANY = "any"


@dataclass
class Event:
    """The columns of Rasa's `events` table that the roll-up reads (SQLTrackerStore.SQLEvent)."""

    id: int
    type_name: str
    timestamp: float | None
    action_name: str | None
    data: str | None

    def body(self) -> Dict[str, Any]:
        try:
            loaded = json.loads(self.data or "{}")
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}


@dataclass
class Search:
    job_family: str
    location: str
    empty: bool


@dataclass
class Conversation:
    key: int
    day: str = ""
    channel: str = UNKNOWN_CHANNEL
    messages: int = 0
    handed_off: bool = False
    off_topic: int = 0
    not_understood: int = 0
    did_you_mean: int = 0
    safety: int = 0
    topics: Counter = field(default_factory=Counter)
    searches: List[Search] = field(default_factory=list)
    last_at: float = 0.0
    last_id: int = 0  # its newest stored event: unchanged conversations are not rewritten


def topic_of(parse: Dict[str, Any]) -> str:
    """`faq/<topic>` for FAQ questions, the intent otherwise (as evaluation/heldout.label_of)."""
    intent = (parse.get("intent") or {}).get("name") or ""
    if intent == "faq":
        selector = (parse.get("response_selector") or {}).get("faq") or {}
        return (selector.get("response") or {}).get("intent_response_key") or "faq"
    return intent


def local_day(timestamp: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).astimezone(zone).date().isoformat()


def _starts_session(event: Event, current: List[Event]) -> bool:
    """Rasa starts a session with `action_session_start`, then `session_started`."""
    if event.type_name == "action" and event.action_name == SESSION_START_ACTION:
        return True
    opened = len(current) == 1 and current[0].action_name == SESSION_START_ACTION
    return event.type_name == "session_started" and not opened


def sessions(events: Sequence[Event]) -> Iterable[List[Event]]:
    """One sender's events, in stored order, cut where each session starts."""
    current: List[Event] = []
    for event in events:
        if current and _starts_session(event, current):
            yield current
            current = []
        current.append(event)
    if current:
        yield current


def summarise(events: Sequence[Event], zone: ZoneInfo) -> List[Conversation]:
    """The conversations in one sender's events that have at least one applicant message."""
    found = []
    for session in sessions(events):
        conversation = _summarise_session(session, zone)
        if conversation.messages:
            found.append(conversation)
    return found


def _summarise_session(session: List[Event], zone: ZoneInfo) -> Conversation:
    conversation = Conversation(key=session[0].id, last_id=session[-1].id)
    searching: Search | None = None
    last_intent = ""
    for event in session:
        conversation.last_at = max(conversation.last_at, event.timestamp or 0.0)
        if event.type_name == "user":
            last_intent = _count_message(conversation, event, zone)
        elif event.type_name == "bot":
            metadata = event.body().get("metadata") or {}
            if metadata.get("utter_action") == DID_YOU_MEAN:
                conversation.did_you_mean += 1
        elif event.type_name == "action":
            searching = None
            if event.action_name == HANDOFF_ACTION:
                conversation.handed_off = True
            elif event.action_name == SEARCH_ACTION and last_intent == SEARCH_INTENT:
                searching = Search(ANY, ANY, empty=False)
        elif event.type_name == "slot" and searching is not None:
            _read_search_slot(conversation, searching, event.body())
    return conversation


def _count_message(conversation: Conversation, event: Event, zone: ZoneInfo) -> str:
    body = event.body()
    if not conversation.messages:
        conversation.day = local_day(event.timestamp or 0.0, zone)
        conversation.channel = str(body.get("input_channel") or UNKNOWN_CHANNEL)[:64]
    conversation.messages += 1
    parse = body.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name") or ""
    if intent == OFF_TOPIC:
        conversation.off_topic += 1
    elif intent == NOT_UNDERSTOOD:
        conversation.not_understood += 1
    elif intent in SAFETY_INTENTS:
        conversation.safety += 1
    topic = topic_of(parse)
    if topic and topic not in NOT_TOPICS:
        conversation.topics[topic[:100]] += 1
    return intent


def _read_search_slot(conversation: Conversation, search: Search, body: Dict[str, Any]) -> None:
    """The search action sets job_family and location, then how many vacancies it showed."""
    name, value = body.get("name"), body.get("value")
    if name == "job_family" and value:
        search.job_family = str(value)[:100]
    elif name == "location" and value:
        search.location = str(value)[:100]
    elif name == SHOWN_SLOT and value is not None:
        # Set to a number only when a search ran (asking "which kind of role?" clears it);
        # 0 on a first page: no vacancy was shown.
        search.empty = _number(value) == 0
        conversation.searches.append(search)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return -1.0
