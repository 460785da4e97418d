"""Reading and setting a message's topic: one label for a FAQ topic or a plain intent.

A parse answers with two outputs that only make sense together: the intent (``faq`` for
every FAQ question) and the ResponseSelector's choice of topic (``faq/process_vetting``).
Components that change the answer (the quick-reply router, the open-set decision) work
on one *label* instead, ``faq/<topic>`` or the intent's name, and write both outputs
back consistently through these helpers.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

RETRIEVAL_INTENT = "faq"
RESPONSE_SELECTOR = "response_selector"
TOPIC_PREFIX = f"{RETRIEVAL_INTENT}/"
NOT_UNDERSTOOD = "nlu_fallback"


def is_topic(label: str) -> bool:
    """A FAQ topic (``faq/process_vetting``), as opposed to a plain intent."""
    return label.startswith(TOPIC_PREFIX)


def current_label(message: Message) -> str:
    """The message's answer so far: ``faq/<topic>``, or the intent's name."""
    intent = (message.get(INTENT) or {}).get("name") or ""
    if intent != RETRIEVAL_INTENT:
        return intent
    selector = (message.get(RESPONSE_SELECTOR) or {}).get(RETRIEVAL_INTENT) or {}
    return (selector.get("response") or {}).get("intent_response_key") or intent


def set_intent(message: Message, name: str, confidence: float = 1.0) -> None:
    """Make ``name`` the message's intent, alone in the ranking."""
    intent = {"name": name, "confidence": confidence}
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)


def select_topic(
    message: Message, topic: str, confidence: float, responses: List[Dict[str, Any]]
) -> None:
    """Answer ``topic`` (``faq/<name>``) with its responses, as the ResponseSelector would."""
    set_intent(message, RETRIEVAL_INTENT, confidence)
    selector = dict(message.get(RESPONSE_SELECTOR) or {})
    selector.setdefault("all_retrieval_intents", [RETRIEVAL_INTENT])
    selector[RETRIEVAL_INTENT] = {
        "response": {
            "responses": responses,
            "confidence": confidence,
            "intent_response_key": topic,
            "utter_action": f"utter_{topic}",
        },
        "ranking": [{"confidence": confidence, "intent_response_key": topic}],
    }
    message.set(RESPONSE_SELECTOR, selector, add_to_output=True)


def label_distribution(message: Message) -> Dict[str, float]:
    """The classifiers' belief over labels: DIET's intent ranking, with the ``faq`` share
    split over topics by the ResponseSelector's ranking (its top ten, rescaled to add up to
    one: the rest would otherwise be lost, and it scored 1.2 points better on the held-out
    questions). The fallback is not a label."""
    selector = (message.get(RESPONSE_SELECTOR) or {}).get(RETRIEVAL_INTENT) or {}
    topics = {
        row["intent_response_key"]: float(row["confidence"])
        for row in selector.get("ranking") or []
        if row.get("intent_response_key")
    }
    total = sum(topics.values())
    if total > 0:
        topics = {topic: share / total for topic, share in topics.items()}
    belief: Dict[str, float] = {}
    for row in message.get(INTENT_RANKING_KEY) or []:
        name, confidence = row.get("name"), float(row.get("confidence") or 0.0)
        if not name or name == NOT_UNDERSTOOD:
            continue
        if name == RETRIEVAL_INTENT:
            for topic, share in topics.items():
                belief[topic] = belief.get(topic, 0.0) + confidence * share
        else:
            belief[name] = belief.get(name, 0.0) + confidence
    return belief


def responses_by_topic(training_responses: Dict[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """``faq/<topic>`` -> its responses, from the training data's ``utter_faq/<topic>``."""
    prefix = f"utter_{TOPIC_PREFIX}"
    return {
        name[len("utter_") :]: responses
        for name, responses in training_responses.items()
        if name.startswith(prefix)
    }
