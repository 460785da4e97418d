"""Answer a topic only when the message is about it: off-topic, "did you mean", or answer.

Two opinions reach this component: the classifiers' (DIET's intent, the ResponseSelector's
topic: `topic_labels.label_distribution`) and the linear model's, which was also taught
thousands of everyday off-topic messages (`linear_topics.py`). Each alone is confidently
wrong in its own way: DIET gives "is 5g dangerous" the age rule at 1.0, the linear model
misses more careers questions. Their average is calibrated by agreement: a label both
believe scores high, a label only one believes scores at most about half.

- If off-topic is the most likely label by ``off_topic_margin``, the message is
  ``out_of_scope`` (the assistant says what it covers; it does not ask to rephrase); if a
  topic is close behind, "did you mean" offers the topics.
- If a topic is the most likely label but off-topic is within ``off_topic_doubt`` of it,
  the gate is unsure: "did you mean" offers the topics instead of answering one.
- If the best label is not clearly ahead (below ``min_confidence`` or within ``min_margin``
  of the next), the message becomes ``nlu_fallback`` with ``topic_candidates``: the
  dialogue asks "did you mean ...?" with those topics.
- Otherwise the best label is the answer, with the averaged confidence.

A message the unknown-words check already took as not understood (its words are not in the
careers examples) stays so unless the linear model knows at least `known_words` of them
(everyday words from the background: the message is understood, just off-topic). One with
no letters at all ("?", "...") is small talk or not understood, never a question answered.
Safety intents are never overruled here when anything stands behind them: the safety
phrase floor (after this component) always wins, and DIET's safety prediction passes
through unchanged when DIET gives it at least ``safety_confidence`` or both opinions
together put it first. A guess with neither ("hello, i'm thinking about applying" was
distress at 0.26, "i think i won your competition" report_threat at 0.19, while both
opinions together put a topic or off-topic well ahead) is decided like any other message.
But a message about to be called off-topic, or not understood, gets the safety answer when
a safety intent keeps at least ``safety_doubt`` of the blended belief: people reporting a
threat in the moment describe a street, a station or a bus, which the off-topic background
speaks of too.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.learned_json import LearnedJsonComponent
from components.linear_topics import KNOWN_WORDS, LINEAR_TOPICS
from components.topic_labels import (
    NOT_UNDERSTOOD,
    is_topic,
    label_distribution,
    responses_by_topic,
    select_topic,
    set_intent,
)
from contracts.safety import SAFETY_INTENTS

OFF_TOPIC = "out_of_scope"
# The parse key the dialogue reads for "did you mean" (actions/not_understood.py).
TOPIC_CANDIDATES = "topic_candidates"
MAX_CANDIDATES = 3
# Plain intents worth offering as "did you mean": they have a title and an answer.
# Greetings, yes/no and thanks are never what someone meant by a question.
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
NOT_CANDIDATES = SMALL_TALK | {OFF_TOPIC}


def blended(
    classifiers: Dict[str, float], linear: Dict[str, float], linear_weight: float = 0.5
) -> List[Tuple[str, float]]:
    """Both opinions averaged (the linear model's with `linear_weight`), best first."""
    labels = set(classifiers) | set(linear)
    scores = {
        k: (1 - linear_weight) * classifiers.get(k, 0.0) + linear_weight * linear.get(k, 0.0)
        for k in labels
    }
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class OpenSetDecision(LearnedJsonComponent):
    FILE = "topic_responses.json"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "min_confidence": 0.15,
            "min_margin": 0.02,
            "off_topic_margin": 0.05,
            "off_topic_doubt": 0.0,
            "linear_weight": 0.5,
            "min_candidate": 0.05,
            "known_words": 0.5,
            "safety_confidence": 0.5,
            "safety_doubt": 0.1,
        }

    def use(self, learned: Dict[str, List[Dict[str, Any]]] | None) -> None:
        self._responses = learned or {}

    def train(self, training_data: TrainingData) -> Resource:
        return self.keep(responses_by_topic(training_data.responses))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            linear = message.get(LINEAR_TOPICS)
            if linear:
                self._decide(message, linear)
        return messages

    def _decide(self, message: Message, linear: Dict[str, float]) -> None:
        intent = (message.get(INTENT) or {}).get("name")
        known = message.get(KNOWN_WORDS)
        if intent == NOT_UNDERSTOOD and (known is None or known < self._setting("known_words")):
            return  # not understood (made-up words, a language never taught): rephrase
        ranked = blended(label_distribution(message), linear, self._setting("linear_weight"))
        best, confidence = ranked[0]
        if intent in SAFETY_INTENTS and (best == intent or self._safety_sure(message)):
            return
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best in SAFETY_INTENTS:
            set_intent(message, best, confidence)
        elif not any(char.isalpha() for char in message.get(TEXT) or ""):
            # "?", "...", "🙂": a wave or a thumbs-up can be small talk, never a question.
            keep = best in SMALL_TALK
            set_intent(message, best if keep else NOT_UNDERSTOOD, confidence if keep else 0.0)
        elif best == OFF_TOPIC:
            # Off-topic only when clearly ahead of every topic; else offer the topics.
            if confidence - runner_up < self._setting("off_topic_margin"):
                self._ask(message, ranked, OFF_TOPIC)
            else:
                set_intent(message, OFF_TOPIC, confidence)
        elif confidence - dict(ranked).get(OFF_TOPIC, 0.0) < self._setting("off_topic_doubt"):
            # A topic ahead of off-topic by a hair: offer it rather than answer it.
            self._ask(message, ranked, OFF_TOPIC)
        elif confidence < self._setting("min_confidence") or (
            confidence - runner_up < self._setting("min_margin")
        ):
            self._ask(message, ranked, NOT_UNDERSTOOD)
        elif is_topic(best) and best in self._responses:
            select_topic(message, best, confidence, self._responses[best])
        elif not is_topic(best):
            set_intent(message, best, confidence)
        else:
            self._ask(message, ranked, NOT_UNDERSTOOD)
        self._prefer_safety_to_dismissal(message, ranked)

    def _prefer_safety_to_dismissal(
        self, message: Message, ranked: List[Tuple[str, float]]
    ) -> None:
        """About to say "I only cover careers" or to ask what was meant: a safety intent
        with at least `safety_doubt` of the belief is answered instead. The hotline sent
        to an everyday message costs little; "I only cover careers" sent to someone
        reporting a man with a gun costs a lot."""
        if (message.get(INTENT) or {}).get("name") not in (OFF_TOPIC, NOT_UNDERSTOOD):
            return
        floor = self._setting("safety_doubt")
        safety = [(label, score) for label, score in ranked if label in SAFETY_INTENTS]
        if safety and safety[0][1] >= floor:
            set_intent(message, *safety[0])
            message.set(TOPIC_CANDIDATES, None, add_to_output=True)

    def _safety_sure(self, message: Message) -> bool:
        """DIET gave its safety intent at least `safety_confidence`."""
        confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        return confidence >= self._setting("safety_confidence")

    def _setting(self, name: str) -> float:
        return float(self._config[name])

    def _ask(self, message: Message, ranked: List[Tuple[str, float]], otherwise: str) -> None:
        """Not sure: offer the likeliest topics ("did you mean"); with none that fit, the
        intent `otherwise` (off-topic, or not understood)."""
        floor = self._setting("min_candidate")
        candidates = [
            label
            for label, score in ranked
            if score >= floor
            and label not in NOT_CANDIDATES
            and label not in SAFETY_INTENTS
            and (not is_topic(label) or label in self._responses)
        ][:MAX_CANDIDATES]
        if not candidates:
            set_intent(message, otherwise, ranked[0][1])
            return
        set_intent(message, NOT_UNDERSTOOD, ranked[0][1])
        message.set(TOPIC_CANDIDATES, candidates, add_to_output=True)
