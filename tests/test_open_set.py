"""Open-set understanding: the linear opinion (components/linear_topics.py) and the decision
that weighs it against the classifiers' (components/open_set.py)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.linear_topics import KNOWN_WORDS, LINEAR_TOPICS, LinearTopicClassifier
from components.open_set import TOPIC_CANDIDATES, OpenSetDecision
from tests.support.components import train_and_load

CAREERS = {
    "faq/process_vetting": ["how long does vetting take", "what happens in vetting"],
    "faq/eligibility_age": ["am i too old to apply", "can i apply at 17"],
    "greet": ["hello there", "hi"],
}
BACKGROUND = ["is 5g dangerous", "transfer money to my savings", "weather in leeds tomorrow"]
RESPONSES = {
    "utter_faq/process_vetting": [{"text": "Vetting takes a while."}],
    "utter_faq/eligibility_age": [{"text": "You can apply at 17."}],
}


def example(text: str, label: str, background: bool = False) -> Message:
    intent, _, topic = label.partition("/")
    data: Dict[str, Any] = {TEXT: text, INTENT: intent}
    if topic:
        data["intent_response_key"] = label
    if background:
        data["metadata"] = {"intent": {"background": True}}
    return Message(data)


def training_data() -> TrainingData:
    examples = [example(t, label) for label, texts in CAREERS.items() for t in texts]
    examples += [example(t, "out_of_scope", background=True) for t in BACKGROUND]
    examples.append(example("what is your favourite film", "out_of_scope"))
    data = TrainingData(examples, responses=RESPONSES)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    return data


@pytest.fixture
def linear(tmp_path) -> LinearTopicClassifier:
    config = LinearTopicClassifier.get_default_config()
    return train_and_load(LinearTopicClassifier, config, tmp_path, training_data())


def test_the_rest_of_the_pipeline_trains_without_the_background(linear):
    kept = linear.process_training_data(training_data()).training_examples
    texts = {m.get(TEXT) for m in kept}
    assert not texts & set(BACKGROUND)
    assert "what is your favourite film" in texts  # hand-written off-topic examples stay
    assert len(kept) == sum(len(t) for t in CAREERS.values()) + 1
    assert linear.process_training_data(training_data()).responses == RESPONSES


def test_the_linear_model_learned_the_background_too(linear):
    messages = [Message({TEXT: "is 5g dangerous to me"}), Message({TEXT: "how long is vetting"})]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    off, careers = linear.process(messages)
    assert max(off.get(LINEAR_TOPICS), key=off.get(LINEAR_TOPICS).get) == "out_of_scope"
    assert max(careers.get(LINEAR_TOPICS), key=careers.get(LINEAR_TOPICS).get) == (
        "faq/process_vetting"
    )
    assert sum(off.get(LINEAR_TOPICS).values()) == pytest.approx(1.0)
    assert off.get(KNOWN_WORDS) == 0.75  # is, dangerous, to: background words; "me": none
    [made_up] = linear.process(tokenized_message("zorblax quintessa vetting"))
    assert made_up.get(KNOWN_WORDS) == pytest.approx(1 / 3)


def tokenized_message(text: str) -> List[Message]:
    messages = [Message({TEXT: text})]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    return messages


def trained_decision(tmp_path, **settings: float) -> OpenSetDecision:
    config = {**OpenSetDecision.get_default_config(), **settings}
    return train_and_load(OpenSetDecision, config, tmp_path, training_data())


@pytest.fixture
def decision(tmp_path) -> OpenSetDecision:
    return trained_decision(tmp_path)


def parsed(
    intents: Dict[str, float], topics: Dict[str, float], linear: Dict[str, float]
) -> Message:
    """A message as the classifiers and the linear model left it."""
    ranking = [{"name": n, "confidence": c} for n, c in intents.items()]
    message = Message({TEXT: "a question"})
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(
        "response_selector",
        {
            "faq": {
                "response": {"intent_response_key": max(topics, key=lambda k: topics[k])},
                "ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics.items()],
            }
        }
        if topics
        else {},
        add_to_output=True,
    )
    message.set(LINEAR_TOPICS, linear)
    return message


def decide(decision: OpenSetDecision, message: Message) -> Message:
    [message] = decision.process([message])
    return message


def topic_of(message: Message) -> str:
    return message.get("response_selector")["faq"]["response"]["intent_response_key"]


def test_both_opinions_agree_the_topic_is_answered(decision):
    message = decide(
        decision,
        parsed({"faq": 0.99}, {"faq/process_vetting": 0.9}, {"faq/process_vetting": 0.8}),
    )
    assert message.get(INTENT)["name"] == "faq"
    assert topic_of(message) == "faq/process_vetting"
    # the topic ranking is rescaled to add up to one: DIET's 0.99 all goes to vetting
    assert message.get(INTENT)["confidence"] == pytest.approx((0.99 + 0.8) / 2)
    assert message.get(TOPIC_CANDIDATES) is None


def test_a_confident_classifier_is_overruled_when_the_linear_model_sees_off_topic(decision):
    # "is 5g dangerous": DIET said the age rule at 1.0
    message = decide(
        decision,
        parsed(
            {"faq": 1.0},
            {"faq/eligibility_age": 0.4, "faq/process_vetting": 0.3, "faq/life_salary": 0.3},
            {"out_of_scope": 0.9},
        ),
    )
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["out_of_scope"]


def close_call(other: str, share: float) -> Message:
    """Two topics a hair apart, and a little belief in the intent `other`."""
    return parsed(
        {"faq": 1 - share, other: share},
        {"faq/process_vetting": 0.5, "faq/eligibility_age": 0.5},
        {"faq/eligibility_age": 0.45, "faq/process_vetting": 0.44, other: 0.11},
    )


def test_a_close_call_asks_did_you_mean_with_the_likely_topics(decision):
    message = decide(decision, close_call("greet", 0.1))
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert message.get(TOPIC_CANDIDATES) == ["faq/eligibility_age", "faq/process_vetting"]


def test_off_topic_only_a_little_ahead_of_a_topic_offers_the_topics(decision):
    topics = {"faq/eligibility_age": 0.3, "faq/life_salary": 0.4, "faq/process_vetting": 0.3}
    linear = {"out_of_scope": 0.68, "faq/eligibility_age": 0.32}
    message = decide(decision, parsed({"faq": 1.0}, topics, linear))
    assert message.get(INTENT)["name"] == "nlu_fallback"
    # life_salary has no answer in this model, so it is not offered
    assert message.get(TOPIC_CANDIDATES) == ["faq/eligibility_age", "faq/process_vetting"]


def test_greetings_and_off_topic_are_never_offered_as_did_you_mean(decision):
    message = decide(
        decision,
        parsed({"greet": 0.5, "faq": 0.5}, {"faq/process_vetting": 0.3}, {"out_of_scope": 0.45}),
    )
    assert "greet" not in (message.get(TOPIC_CANDIDATES) or [])
    assert "out_of_scope" not in (message.get(TOPIC_CANDIDATES) or [])


@pytest.mark.parametrize("intent", ["distress", "report_threat", "abuse"])
def test_a_sure_safety_intent_passes_through_unchanged(decision, intent):
    message = decide(decision, parsed({intent: 0.6, "faq": 0.4}, {}, {"out_of_scope": 0.99}))
    assert message.get(INTENT) == {"name": intent, "confidence": 0.6}


@pytest.mark.parametrize("intent", ["distress", "report_threat", "abuse"])
def test_a_safety_intent_both_opinions_put_first_passes_through(decision, intent):
    message = decide(decision, parsed({intent: 0.3, "faq": 0.3}, {}, {intent: 0.9}))
    assert message.get(INTENT) == {"name": intent, "confidence": 0.3}


def test_a_faint_safety_guess_against_both_opinions_is_decided_like_any_message(decision):
    # "hello, i think i won your competition": DIET said report_threat at 0.19
    message = decide(
        decision, parsed({"report_threat": 0.19, "faq": 0.18}, {}, {"out_of_scope": 0.95})
    )
    assert message.get(INTENT)["name"] == "out_of_scope"


def test_made_up_words_stay_not_understood_everyday_words_are_off_topic(decision):
    made_up = parsed({"nlu_fallback": 0.7, "faq": 0.3}, {}, {"out_of_scope": 0.95})
    made_up.set(KNOWN_WORDS, 0.0)  # "frobnicate zintor plemmish": known to no model
    assert decide(decision, made_up).get(INTENT)["name"] == "nlu_fallback"
    assert decide(decision, made_up).get(TOPIC_CANDIDATES) is None
    everyday = parsed({"nlu_fallback": 0.7, "faq": 0.3}, {}, {"out_of_scope": 0.9})
    everyday.set(KNOWN_WORDS, 1.0)  # "recommend a podcast": words only the background has
    assert decide(decision, everyday).get(INTENT)["name"] == "out_of_scope"


def test_a_message_without_the_linear_opinion_is_left_alone(decision):
    message = parsed({"faq": 0.99}, {"faq/process_vetting": 0.9}, {})
    message.set(LINEAR_TOPICS, None)
    before: List[Any] = [message.get(INTENT), topic_of(message)]
    message = decide(decision, message)
    assert [message.get(INTENT), topic_of(message)] == before


@pytest.mark.parametrize(("text", "intent"), [("?", "nlu_fallback"), ("...", "nlu_fallback")])
def test_a_message_without_letters_is_never_answered_as_a_question(decision, text, intent):
    message = parsed({"search_vacancies": 0.9}, {}, {"search_vacancies": 0.8})
    message.set(TEXT, text)
    assert decide(decision, message).get(INTENT)["name"] == intent


def test_a_thumbs_up_can_still_be_small_talk(decision):
    message = parsed({"affirm": 0.9}, {}, {"affirm": 0.8})
    message.set(TEXT, "👍")
    assert decide(decision, message).get(INTENT)["name"] == "affirm"


def test_a_topic_barely_ahead_of_off_topic_is_offered_not_answered(tmp_path):
    # "is there an age limit for student finance": DIET says the age rule, the linear model
    # off-topic; blended, the age rule is 0.525 and off-topic 0.4
    def message() -> Message:
        linear = {"out_of_scope": 0.8, "faq/eligibility_age": 0.1}
        return parsed({"faq": 0.95}, {"faq/eligibility_age": 0.9}, linear)

    assert decide(trained_decision(tmp_path), message()).get(INTENT)["name"] == "faq"
    unsure = decide(trained_decision(tmp_path, off_topic_doubt=0.2), message())
    assert unsure.get(INTENT)["name"] == "nlu_fallback"
    assert unsure.get(TOPIC_CANDIDATES) == ["faq/eligibility_age"]


def test_the_linear_weight_decides_whose_opinion_counts_more(tmp_path):
    def decided(weight: float) -> str:
        message = parsed({"faq": 1.0}, {"faq/eligibility_age": 1.0}, {"out_of_scope": 0.9})
        return decide(trained_decision(tmp_path, linear_weight=weight), message).get(INTENT)["name"]

    assert decided(0.4) == "faq"
    assert decided(0.6) == "out_of_scope"


def test_a_safety_intent_with_some_belief_wins_over_off_topic(decision):
    # "theres a man outside tesco waving a machete": the street and the shop are the
    # background's words, so off-topic leads; report_threat keeps 0.15 of the belief
    message = decide(
        decision,
        parsed(
            {"faq": 0.72, "report_threat": 0.2},
            {"faq/process_vetting": 1.0},
            {"out_of_scope": 0.9, "report_threat": 0.1},
        ),
    )
    assert message.get(INTENT)["name"] == "report_threat"
    assert not message.get(TOPIC_CANDIDATES)


def test_a_safety_intent_wins_over_did_you_mean_too(decision):
    message = decide(decision, close_call("distress", 0.2))
    assert message.get(INTENT)["name"] == "distress"
    assert not message.get(TOPIC_CANDIDATES)


def test_a_trace_of_safety_leaves_off_topic_and_topics_alone(tmp_path):
    off_topic = parsed({"faq": 0.9, "report_threat": 0.05}, {}, {"out_of_scope": 0.95})
    assert decide(trained_decision(tmp_path), off_topic).get(INTENT)["name"] == "out_of_scope"
    # a careers answer is never turned into a safety one here, however much belief it keeps
    topic = parsed(
        {"faq": 0.7, "report_threat": 0.3},
        {"faq/process_vetting": 1.0},
        {"faq/process_vetting": 0.8, "report_threat": 0.2},
    )
    assert decide(trained_decision(tmp_path), topic).get(INTENT)["name"] == "faq"
    strict = parsed({"faq": 0.72, "report_threat": 0.2}, {}, {"out_of_scope": 0.9})
    assert (
        decide(trained_decision(tmp_path, safety_doubt=0.2), strict).get(INTENT)["name"]
        == "out_of_scope"
    )
