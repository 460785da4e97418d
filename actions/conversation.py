"""Facts about a conversation derived from its events, so no extra state is stored."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping

from rasa_sdk import Tracker

# The NLU's "not sure": with guesses in `topic_candidates` the assistant asks "Did you
# mean…?", without them it did not understand. `out_of_scope` is understood (off-topic).
NOT_UNDERSTOOD = "nlu_fallback"
CANDIDATES_KEY = "topic_candidates"


def user_events(tracker: Tracker) -> Iterator[Dict[str, Any]]:
    """The applicant's messages, newest first."""
    return (event for event in reversed(tracker.events) if event.get("event") == "user")


def intent_of(event: Dict[str, Any]) -> str | None:
    return (event.get("parse_data") or {}).get("intent", {}).get("name")


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def topic_candidates(parse_data: Mapping[str, Any] | None) -> List[str]:
    """The NLU's guesses for a message it was unsure about, best first (none: not understood)."""
    if not parse_data or (parse_data.get("intent") or {}).get("name") != NOT_UNDERSTOOD:
        return []
    candidates = parse_data.get(CANDIDATES_KEY)
    if not isinstance(candidates, list):
        return []
    return [name for name in candidates if isinstance(name, str) and name]


def not_understood_in_a_row(tracker: Tracker) -> int:
    """How many of the latest messages, counting back, the assistant did not understand.

    An off-topic message was understood, so it ends the run. A message answered with
    "Did you mean…?" (it had guesses) neither counts nor ends it: after "Did you mean…?",
    "Something else" asks to rephrase and one more miss offers a person.
    """
    count = 0
    for event in user_events(tracker):
        parse_data = event.get("parse_data") or {}
        if intent_of(event) != NOT_UNDERSTOOD:
            break
        if not topic_candidates(parse_data):
            count += 1
    return count
