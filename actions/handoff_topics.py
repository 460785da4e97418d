"""Which FAQ topics depend on the applicant's circumstances, and which topic was last asked.

Trainers list the topics in data/handoff_topics.yml; the last topic is read back from the
tracker (the response selector's answer on the latest FAQ message), so no slot is needed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, FrozenSet

from rasa_sdk import Tracker
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from actions.conversation import intent_of, user_events

logger = logging.getLogger(__name__)

FAQ = "faq"


def load_handoff_topics(path: Path) -> FrozenSet[str]:
    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError):
        # Without the list the assistant still answers; it just offers no recruiter.
        logger.exception("%s: cannot read the hand-over topics", path)
        return frozenset()
    return frozenset(str(topic) for topic in document.get("handoff_topics") or [])


def faq_topic(event: Dict[str, Any]) -> str | None:
    """The topic name, e.g. eligibility_nationality, of a message answered from the FAQ."""
    if intent_of(event) != FAQ:
        return None
    selector = (event.get("parse_data") or {}).get("response_selector") or {}
    key = ((selector.get(FAQ) or {}).get("response") or {}).get("intent_response_key") or ""
    return key.split("/", 1)[1] if key.startswith(f"{FAQ}/") else None


def last_faq_topic(tracker: Tracker) -> str | None:
    for event in user_events(tracker):
        topic = faq_topic(event)
        if topic:
            return topic
    return None


def offered_after_answer(tracker: Tracker, topics: FrozenSet[str]) -> bool:
    """True when the message before this one was answered on a topic that offers a recruiter."""
    events = user_events(tracker)
    next(events, None)  # the "yes" or "no" itself
    previous = next(events, None)
    return previous is not None and faq_topic(previous) in topics
