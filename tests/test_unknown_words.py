"""The unknown-words floor (components/unknown_words.py): made-up words fall back."""

from __future__ import annotations

from typing import Any, List

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.unknown_words import UnknownWordsFallback, UnknownWordsSettingsError

EXAMPLES = [
    ("how long does vetting take", "faq"),
    ("can i apply if i took drugs", "faq"),
    ("thank you", "thank"),
    ("yeah", "affirm"),
    ("hello there", "greet"),
]
CONTEXT = ExecutionContext(graph_schema=None, model_id="test")
GUESS = {"name": "faq", "confidence": 0.99}


def tokenized(texts: List[str]) -> List[Message]:
    messages = [Message({TEXT: text}) for text in texts]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    for message in messages:
        message.set(INTENT, GUESS)
        message.set(INTENT_RANKING_KEY, [GUESS, {"name": "greet", "confidence": 0.01}])
    return messages


def config(**overrides: Any) -> dict:
    return {**UnknownWordsFallback.get_default_config(), **overrides}


@pytest.fixture
def stored(tmp_path) -> tuple[LocalModelStorage, Resource]:
    storage, resource = LocalModelStorage(tmp_path), Resource("unknown_words")
    data = TrainingData([Message({TEXT: text, INTENT: intent}) for text, intent in EXAMPLES])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    UnknownWordsFallback.create(config(), storage, resource, CONTEXT).train(data)
    return storage, resource


@pytest.fixture
def trained(stored) -> UnknownWordsFallback:
    storage, resource = stored
    return UnknownWordsFallback.load(config(), storage, resource, CONTEXT)


def intent_of(component: UnknownWordsFallback, text: str) -> str:
    [message] = component.process(tokenized([text]))
    return message.get(INTENT)["name"]


@pytest.mark.parametrize(
    "text",
    [
        "Zorblax quintessa flibbertigibbet wumpus?",
        "Blorptastic snurfle vexilloid?",
        "je cherche une bonne boulangerie",
        "ما هي أفضل مباراة",
        "vetting zorblax quintessa",
    ],
)
def test_mostly_unknown_words_fall_back(trained, text):
    [message] = trained.process(tokenized([text]))
    assert message.get(INTENT)["name"] == "nlu_fallback"
    ranking = [entry["name"] for entry in message.get(INTENT_RANKING_KEY)]
    assert ranking == ["nlu_fallback", "faq", "greet"]  # the guess is still there to inspect


@pytest.mark.parametrize(
    "text",
    [
        "how long does vetting take",
        "how long does vettting take",  # a typo is close to a known word
        "thankyou",  # two known words run together
        "yea",
        "hello Priya",  # half unknown is not "mostly"
        "vetting?? 2024 !!",  # numbers and punctuation are not words
        "👍",
        "",
    ],
)
def test_known_words_typos_and_names_keep_the_classifiers_answer(trained, text):
    assert intent_of(trained, text) == "faq"


def test_words_of_recognised_entities_count_as_known(trained):
    [message] = tokenized(["Cheltenham"])
    message.set(ENTITIES, [{"entity": "location", "start": 0, "end": 10, "value": "Cheltenham"}])
    [message] = trained.process([message])
    assert message.get(INTENT)["name"] == "faq"
    assert intent_of(trained, "Cheltenham") == "nlu_fallback"  # not recognised: unknown


def test_the_share_is_configurable(stored):
    storage, resource = stored
    strict = UnknownWordsFallback.load(config(max_unknown_share=0.3), storage, resource, CONTEXT)
    assert intent_of(strict, "hello Priya") == "nlu_fallback"


def test_untrained_component_changes_nothing(tmp_path):
    untrained = UnknownWordsFallback(config(), LocalModelStorage(tmp_path), Resource("x"))
    assert intent_of(untrained, "Zorblax quintessa") == "faq"


@pytest.mark.parametrize("setting", [{"max_unknown_share": 0}, {"similar_word_cutoff": 1.5}])
def test_bad_settings_are_refused_with_the_reason(tmp_path, setting):
    with pytest.raises(UnknownWordsSettingsError, match="more than 0 and at most 1"):
        UnknownWordsFallback(config(**setting), LocalModelStorage(tmp_path), Resource("x"))
