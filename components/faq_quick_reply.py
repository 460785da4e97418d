"""Answer a quick reply whose payload names an FAQ topic, without guessing.

Answers offer related topics as quick replies. Rasa's ``/intent`` payloads cannot name a
retrieval sub-intent (``/faq/process_vetting`` is not a domain intent, and Rasa's regex
handler drops the response selector's output), so a topic quick reply carries the plain
topic name, ``faq/process_vetting``, and this component, placed after the
ResponseSelector, turns it into a certain prediction of that topic. Instagram ice
breakers and quick replies use the same payloads.

A typed ``/faq...`` would reach Rasa's regex handler as the bare ``faq`` intent with no
topic, and answering it crashes Rasa's retrieval action; such a message is taken as not
understood instead, and its leading slash dropped so the regex handler leaves it alone.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent

RETRIEVAL_INTENT = "faq"
PAYLOAD = re.compile(rf"^\s*/?{RETRIEVAL_INTENT}/([a-z0-9_]+)\s*$")
SLASH_COMMAND = re.compile(rf"^\s*/{RETRIEVAL_INTENT}(?![a-z0-9_])")
NOT_UNDERSTOOD = "nlu_fallback"
RESPONSE_PREFIX = f"utter_{RETRIEVAL_INTENT}/"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqQuickReplyRouter(LearnedJsonComponent):
    """Maps ``faq/<topic>`` payloads to the ``faq`` intent and that topic's answer."""

    FILE = "topics.json"

    def use(self, learned: Dict[str, List[Dict[str, Any]]] | None) -> None:
        # topic ("faq/process_vetting") -> its responses, as the ResponseSelector reports them
        self._responses = learned or {}

    def train(self, training_data: TrainingData) -> Resource:
        return self.keep(
            {
                name[len("utter_") :]: responses
                for name, responses in training_data.responses.items()
                if name.startswith(RESPONSE_PREFIX)
            }
        )

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            match = PAYLOAD.match(text)
            topic = f"{RETRIEVAL_INTENT}/{match.group(1)}" if match else None
            if topic in self._responses:
                self._select(message, topic)
            elif SLASH_COMMAND.match(text):
                self._set_intent(message, NOT_UNDERSTOOD)
            if SLASH_COMMAND.match(text):
                message.set(TEXT, text.strip()[1:], add_to_output=True)
        return messages

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        intent = {"name": name, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)

    def _select(self, message: Message, topic: str) -> None:
        self._set_intent(message, RETRIEVAL_INTENT)
        selector = dict(message.get("response_selector") or {})
        selector.setdefault("all_retrieval_intents", [RETRIEVAL_INTENT])
        selector[RETRIEVAL_INTENT] = {
            "response": {
                "responses": self._responses[topic],
                "confidence": 1.0,
                "intent_response_key": topic,
                "utter_action": f"utter_{topic}",
            },
            "ranking": [{"confidence": 1.0, "intent_response_key": topic}],
        }
        message.set("response_selector", selector, add_to_output=True)
