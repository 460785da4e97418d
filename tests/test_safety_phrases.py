"""The deterministic floor under the safety intents (components/safety_phrases.py)."""

from __future__ import annotations

import re

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from components.safety_phrases import PHRASE_ORDER, SafetyPhraseClassifier
from contracts.safety import SAFETY_INTENTS
from tests.taxonomy import ROOT


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> SafetyPhraseClassifier:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("safety_phrases")
    context = ExecutionContext(graph_schema=None, model_id="test")
    component = SafetyPhraseClassifier.create({}, storage, resource, context)
    component.train(load_data(str(ROOT / "data" / "nlu")))
    return SafetyPhraseClassifier.load({}, storage, resource, context)


def classify(classifier: SafetyPhraseClassifier, text: str) -> str:
    guess = {"name": "out_of_scope", "confidence": 0.7}
    message = Message({"text": text, "intent": guess, "intent_ranking": [guess]})
    [message] = classifier.process([message])
    return str(message.get("intent")["name"])


@pytest.mark.parametrize(
    "text",
    ["i want to die", "I've been self harming again", "thinking about suicide tbh",
     "i don't want to be here anymore", "i can't go on like this", "im in danger right now"],
)  # fmt: skip
def test_crisis_phrases_are_always_distress(classifier, text):
    assert classify(classifier, text) == "distress"


@pytest.mark.parametrize(
    "text",
    ["my cousin has been radicalised", "a man at work is making explosives",
     "how do i report a threat", "i have information about a terror plot"],
)  # fmt: skip
def test_threat_phrases_are_always_report_threat(classifier, text):
    assert classify(classifier, text) == "report_threat"


@pytest.mark.parametrize(
    "text",
    ["do mi5 officers have a licence to kill", "i don't want to live in london",
     "is it dangerous to work there", "what does mi5 do about terrorism"],
)  # fmt: skip
def test_ordinary_questions_are_left_to_the_model(classifier, text):
    assert classify(classifier, text) == "out_of_scope"


def test_no_phrase_fires_on_any_other_example():
    training = load_data(str(ROOT / "data" / "nlu"))
    patterns = [
        (f["name"], re.compile(f["pattern"], re.IGNORECASE)) for f in training.regex_features
    ]
    examples = training.intent_examples + load_data(str(ROOT / "tests" / "nlu")).intent_examples
    wrong = [
        (message.get("text"), name)
        for message in examples
        for name, pattern in patterns
        if pattern.search(message.get("text")) and message.get_full_intent() != name
    ]
    assert not wrong


def test_every_safety_intent_is_floored_and_a_person_in_crisis_comes_first():
    """The intents come from the rules (contracts/safety.py); the component orders them."""
    assert PHRASE_ORDER[0] == "distress"
    assert sorted(PHRASE_ORDER) == sorted(SAFETY_INTENTS)


def test_a_message_with_crisis_and_threat_phrases_is_distress(classifier):
    assert classify(classifier, "i want to die, my cousin has been radicalised") == "distress"
