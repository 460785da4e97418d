"""Careers answers to questions about other employers become that signpost
(components/other_employers.py), with the names configured in config.yml."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.other_employers import OtherEmployerRouter
from components.topic_labels import select_topic, set_intent
from tests.support.components import shipped_config, train_and_load

OTHER_CAREERS = [{"text": "Other employers' careers answer"}]


@pytest.fixture
def router(tmp_path) -> OtherEmployerRouter:
    responses = {"utter_faq/public_other_careers": OTHER_CAREERS, "utter_faq/life_salary": []}
    config = shipped_config(OtherEmployerRouter)
    return train_and_load(OtherEmployerRouter, config, tmp_path, TrainingData(responses=responses))


def answered(text: str, label: str) -> Message:
    message = Message({"text": text})
    if label.startswith("faq/"):
        select_topic(message, label, 0.9, [{"text": label}])
    else:
        set_intent(message, label, 0.9)
    return message


def label_of(message: Message) -> str:
    if message.get("intent")["name"] != "faq":
        return message.get("intent")["name"]
    return message.get("response_selector")["faq"]["response"]["intent_response_key"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("SIS citizenship rules", "faq/eligibility_nationality"),
        ("how much do gchq analysts earn", "faq/life_salary"),
        ("can people with anxiety join the army?", "faq/eligibility_health_disability"),
        ("can you get into the police with a caution", "faq/eligibility_criminal_record"),
        ("I was in the army and now want to join the police", "faq/roles_career_changers"),
        ("any jobs at the National Crime Agency?", "search_vacancies"),
        ("Types of MI6 roles", "faq/roles_overview"),
        ("my son wants to become a police officer, is 17 too young", "faq/eligibility_age"),
        # the employer named, then joined by pronoun
        ("what does GCHQ do and how do I get a job there?", "faq/life_salary"),
        ("the navy sounds amazing, could I work there with asthma", "nlu_fallback"),
        # the taxonomy's own examples of the topic, where the model had no answer
        ("how do i join the police", "out_of_scope"),
        ("is asthma a problem for joining the raf?", "nlu_fallback"),
    ],
)
def test_a_careers_answer_about_another_employer_becomes_its_signpost(router, text, label):
    [message] = router.process([answered(text, label)])
    assert label_of(message) == "faq/public_other_careers"
    assert message.get("response_selector")["faq"]["response"]["responses"] == OTHER_CAREERS
    assert message.get("intent")["confidence"] == 0.9


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # about MI5 after all
        ("I got rejected by GCHQ, can I still join MI5?", "faq/process_reapply"),
        ("can i apply to gchq and the security service at once", "faq/process_stages"),
        ("I applied to GCHQ last week, can I apply here too?", "faq/process_multiple_applications"),
        # their own or their family's service
        ("I'm a police officer, could I be a surveillance officer?", "faq/roles_surveillance"),
        ("ex-army, what roles would suit me", "faq/roles_overview"),
        ("my dad is an army officer, does that matter", "faq/eligibility_partner_family"),
        ("I'm a police officer, how would I switch careers", "faq/roles_career_changers"),
        # a comparison, not a question about the other employer
        ("is the pay better than police officers get", "faq/life_salary"),
        # a police caution is not a police job
        ("I got a police caution at 16, will it stop me?", "faq/eligibility_criminal_record"),
        # outside careers
        ("do mi6 agents really have a licence to kill", "faq/myth_james_bond"),
        ("how do i join the police", "report_threat"),
        # with no answer, only joining or working there counts
        ("the police took my bike, mi6 agents are everywhere", "out_of_scope"),
        ("police officer pay", "nlu_fallback"),
        # "there" after their own service, or in a comparison with MI5
        ("my sister is in the raf, can i work there?", "faq/eligibility_partner_family"),
        ("I interviewed at GCHQ, is applying there like applying here?", "faq/process_stages"),
    ],
)
def test_other_answers_are_left_alone(router, text, label):
    [message] = router.process([answered(text, label)])
    assert label_of(message) == label


def test_a_did_you_mean_becomes_an_answer(router):
    message = answered("are there age limits for joining the navy", "nlu_fallback")
    message.set("topic_candidates", ["faq/eligibility_age"], add_to_output=True)
    [message] = router.process([message])
    assert label_of(message) == "faq/public_other_careers"
    assert not message.get("topic_candidates")


def test_with_no_signpost_trained_nothing_moves(tmp_path):
    config = shipped_config(OtherEmployerRouter)
    component = train_and_load(OtherEmployerRouter, config, tmp_path, TrainingData(responses={}))
    [message] = component.process([answered("mi6 salary", "faq/life_salary")])
    assert label_of(message) == "faq/life_salary"
