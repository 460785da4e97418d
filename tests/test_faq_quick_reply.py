"""The component that turns topic quick replies into certain FAQ predictions."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.faq_quick_reply import FaqQuickReplyRouter
from tests.support.components import train_and_load

VETTING = [{"text": "Vetting answer"}]


@pytest.fixture
def router(tmp_path) -> FaqQuickReplyRouter:
    responses = {"utter_faq/process_vetting": VETTING, "utter_greet": []}
    return train_and_load(FaqQuickReplyRouter, {}, tmp_path, TrainingData(responses=responses))


def parsed(text: str) -> Message:
    guess: Dict[str, Any] = {"name": "out_of_scope", "confidence": 0.4}
    return Message({"text": text, "intent": guess, "intent_ranking": [guess]})


@pytest.mark.parametrize(
    "payload", ["faq/process_vetting", "/faq/process_vetting", " faq/process_vetting "]
)
def test_a_topic_payload_selects_that_topic(router, payload):
    [message] = router.process([parsed(payload)])
    assert message.get("intent") == {"name": "faq", "confidence": 1.0}
    selected = message.get("response_selector")["faq"]["response"]
    assert selected["utter_action"] == "utter_faq/process_vetting"
    assert selected["responses"] == VETTING


def test_ordinary_text_is_left_to_the_model(router):
    [message] = router.process([parsed("what is vetting about faq/process_vetting")])
    assert message.get("intent")["name"] == "out_of_scope"


@pytest.mark.parametrize("text", ["faq/no_such_topic", "faq/greet"])
def test_an_unknown_topic_is_left_to_the_model(router, text):
    [message] = router.process([parsed(text)])
    assert message.get("intent")["name"] == "out_of_scope"


@pytest.mark.parametrize("text", ["/faq", '/faq{"broken', "/faq/no_such_topic"])
def test_a_typed_faq_command_is_not_understood_rather_than_crashing(router, text):
    [message] = router.process([parsed(text)])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert not message.get("text").startswith("/")
