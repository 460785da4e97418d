"""A deterministic floor under the safety intents.

A person who writes "i want to die" must never be told "sorry, I didn't get that" because
the model happened to miss. Trainers list unmistakable phrases for a safety intent
(contracts/safety.py: those data/rules/safety.yml answers; today `distress` and
`report_threat` have some) as `regex:` entries in data/nlu/safety.yml; this component,
placed after the classifiers, makes any message matching one of them that intent, whatever
the model said. The model still recognises everything else; these phrases only stop the
worst misses.
"""

from __future__ import annotations

import re
from typing import Dict, List, Pattern

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent
from contracts.safety import SAFETY_RULE_ORDER

# A person in crisis comes before anything else; then the rules' order.
CHECKED_FIRST = ("distress",)
PHRASE_ORDER = (*CHECKED_FIRST, *(i for i in SAFETY_RULE_ORDER if i not in CHECKED_FIRST))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyPhraseClassifier(LearnedJsonComponent):
    FILE = "safety_patterns.json"

    def use(self, learned: Dict[str, List[str]] | None) -> None:
        patterns = learned or {}
        self._compiled: List[tuple[str, Pattern[str]]] = [
            (intent, re.compile(pattern, re.IGNORECASE))
            for intent in PHRASE_ORDER
            for pattern in patterns.get(intent, [])
        ]

    def train(self, training_data: TrainingData) -> Resource:
        patterns: Dict[str, List[str]] = {intent: [] for intent in PHRASE_ORDER}
        for feature in training_data.regex_features:
            if feature["name"] in patterns:
                re.compile(feature["pattern"])  # a broken pattern fails training, not a chat
                patterns[feature["name"]].append(feature["pattern"])
        return self.keep(patterns)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            for intent, pattern in self._compiled:
                if pattern.search(text):
                    chosen = {"name": intent, "confidence": 1.0}
                    message.set(INTENT, chosen, add_to_output=True)
                    message.set(INTENT_RANKING_KEY, [chosen], add_to_output=True)
                    break
        return messages
