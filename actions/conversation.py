"""Facts about a conversation derived from its events, so no extra state is stored."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator

from rasa_sdk import Tracker

NOT_UNDERSTOOD_INTENTS = frozenset({"out_of_scope", "nlu_fallback"})


def user_events(tracker: Tracker) -> Iterator[Dict[str, Any]]:
    """The applicant's messages, newest first."""
    return (event for event in reversed(tracker.events) if event.get("event") == "user")


def intent_of(event: Dict[str, Any]) -> str | None:
    return (event.get("parse_data") or {}).get("intent", {}).get("name")


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def not_understood_in_a_row(tracker: Tracker) -> int:
    """How many of the latest messages, counting back, the assistant failed to understand."""
    return _leading(intent_of(event) in NOT_UNDERSTOOD_INTENTS for event in user_events(tracker))


def _leading(flags: Iterable[bool]) -> int:
    count = 0
    for flag in flags:
        if not flag:
            break
        count += 1
    return count
