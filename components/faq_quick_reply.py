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
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent
from components.topic_labels import (
    NOT_UNDERSTOOD,
    RETRIEVAL_INTENT,
    responses_by_topic,
    select_topic,
    set_intent,
)

PAYLOAD = re.compile(rf"^\s*/?{RETRIEVAL_INTENT}/([a-z0-9_]+)\s*$")
SLASH_COMMAND = re.compile(rf"^\s*/{RETRIEVAL_INTENT}(?![a-z0-9_])")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class FaqQuickReplyRouter(LearnedJsonComponent):
    """Maps ``faq/<topic>`` payloads to the ``faq`` intent and that topic's answer."""

    FILE = "topics.json"

    def use(self, learned: Dict[str, List[Dict[str, Any]]] | None) -> None:
        # topic ("faq/process_vetting") -> its responses, as the ResponseSelector reports them
        self._responses = learned or {}

    def train(self, training_data: TrainingData) -> Resource:
        return self.keep(responses_by_topic(training_data.responses))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            match = PAYLOAD.match(text)
            topic = f"{RETRIEVAL_INTENT}/{match.group(1)}" if match else None
            if topic in self._responses:
                select_topic(message, topic, 1.0, self._responses[topic])
            elif SLASH_COMMAND.match(text):
                set_intent(message, NOT_UNDERSTOOD)
            if SLASH_COMMAND.match(text):
                message.set(TEXT, text.strip()[1:], add_to_output=True)
        return messages
