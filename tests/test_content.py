"""The content contract: every taxonomy topic is trained, tested and answered within limits."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.topic_titles import load_topic_titles
from contracts.safety import SAFETY_INTENTS, SafetyRulesError, safety_intents_from
from tests.taxonomy import (
    ADDED_INTENTS,
    FAQ_TOPICS,
    OTHER_INTENTS,
    ROOT,
    TAXONOMY_DOC,
    intents_in_document,
    safety_intents_in_document,
    topics_in_document,
)
from training import checks
from training.checks import MIN_HELDOUT_EXAMPLES, MIN_TRAINING_EXAMPLES
from training.content import Content, read_content
from training.topics import Layout

MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
OFFICIAL_LINK = re.compile(r"https://www\.mi5\.gov\.uk/\S*")


@pytest.fixture(scope="module")
def content() -> Content:
    return read_content(Layout(ROOT))


@pytest.fixture(scope="module")
def training() -> TrainingData:
    return load_data(str(ROOT / "data" / "nlu"))


@pytest.fixture(scope="module")
def heldout() -> TrainingData:
    return load_data(str(ROOT / "tests" / "nlu"))


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def responses(domain: Domain) -> Dict[str, List[Dict[str, Any]]]:
    faq = load_data(str(ROOT / "data" / "responses")).responses
    return {**domain.responses, **faq}


def counts(data: TrainingData) -> Counter:
    return Counter(message.get_full_intent() for message in data.intent_examples)


def test_taxonomy_snapshot_matches_the_brief():
    if not TAXONOMY_DOC.exists():
        pytest.skip(f"{TAXONOMY_DOC} is not beside this checkout")
    document = TAXONOMY_DOC.read_text(encoding="utf-8")
    assert set(FAQ_TOPICS) <= set(topics_in_document(document))
    assert set(OTHER_INTENTS) <= set(intents_in_document(document))


def test_every_taxonomy_topic_has_a_quick_reply_title():
    """The titles "Did you mean…?" offers (data/topic_titles.yml): every topic of the brief,
    including those whose answers are still on their way, and the guessable intents."""
    titles = load_topic_titles()
    document = TAXONOMY_DOC.read_text(encoding="utf-8") if TAXONOMY_DOC.exists() else ""
    topics = set(FAQ_TOPICS) | set(topics_in_document(document))
    guessable = {"search_vacancies", "request_human", "qa_events", "delete_my_data", "help"}
    # A title longer than MAX_TITLE_CHARS is never loaded, so it shows here as missing.
    missing = sorted(({f"faq/{topic}" for topic in topics} | guessable) - set(titles))
    assert missing == []


@pytest.mark.parametrize("label", [f"faq/{t}" for t in FAQ_TOPICS] + OTHER_INTENTS + ADDED_INTENTS)
def test_every_topic_has_enough_examples(label, training, heldout):
    assert counts(training)[label] >= MIN_TRAINING_EXAMPLES, f"{label}: too few training examples"
    assert counts(heldout)[label] >= MIN_HELDOUT_EXAMPLES, f"{label}: too few held-out examples"


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_every_topic_has_an_answer_with_its_official_link(topic, responses):
    variants = responses.get(f"utter_faq/{topic}")
    assert variants, f"utter_faq/{topic} is missing"
    for variant in variants:
        assert OFFICIAL_LINK.search(variant["text"]), f"utter_faq/{topic} has no mi5.gov.uk link"


# These content rules are `make check` checks (training/checks.py); the tests run the same code.


def test_no_example_is_under_two_intents(content):
    assert [str(problem) for problem in checks.check_duplicates(content)] == []


def test_no_heldout_example_is_in_the_training_data(content):
    assert [str(problem) for problem in checks.check_heldout_leaks(content)] == []


def test_every_answer_fits_instagram(responses, domain):
    topics = {f"faq/{t}" for t in FAQ_TOPICS}
    problems = []
    for name, variants in responses.items():
        for variant in variants:
            buttons = variant.get("buttons", [])
            if len(buttons) > MAX_QUICK_REPLIES:
                problems.append(f"{name}: {len(buttons)} quick replies")
            for button in buttons:
                if len(button["title"]) > MAX_TITLE_CHARS:
                    problems.append(f"{name}: title {button['title']!r} is too long")
                payload = button["payload"]
                if payload.startswith("/"):
                    intent = re.match(r"/([a-z_]+)", payload)
                    if not intent or intent.group(1) not in domain.intents:
                        problems.append(f"{name}: payload {payload!r} names no intent")
                elif payload not in topics:
                    problems.append(f"{name}: payload {payload!r} names no FAQ topic")
    assert not problems, "\n".join(problems)


def test_every_answer_fits_in_one_instagram_message(content):
    assert [str(problem) for problem in checks.check_answer_size(content)] == []


def test_every_link_is_well_formed_https(content):
    assert [str(problem) for problem in checks.check_links(content)] == []


def test_every_link_is_to_an_official_site(content):
    assert [str(problem) for problem in checks.check_official_sites(content)] == []


# "The threat level is SEVERE", "the level now stands at substantial": a level stated as current.
STATED_LEVEL = re.compile(
    r"\b(?:threat|level)\b[^.;:]{0,40}?\b(?:is|at|remains|raised to|lowered to|now)\s+"
    r"(?:currently\s+)?"
    r"(?:low|moderate|substantial|severe|critical)\b",
    re.IGNORECASE,
)


def test_no_answer_states_the_current_threat_level(responses):
    """The level changes at any time (facts-public.md 5.6): answers link the page instead."""
    stated = [
        name
        for name, variants in responses.items()
        for variant in variants
        if STATED_LEVEL.search(" ".join((variant.get("text") or "").split()))
    ]
    assert stated == []
    [threat_level] = responses["utter_faq/public_threat_level"]
    assert "https://www.mi5.gov.uk/threat-levels" in threat_level["text"]


def test_the_rules_answer_exactly_the_taxonomys_safety_intents():
    """contracts/safety.py reads the safety intents from the rules; the brief names them."""
    named = safety_intents_in_document(TAXONOMY_DOC.read_text(encoding="utf-8"))
    assert named and set(named) == SAFETY_INTENTS


def test_a_safety_rules_file_in_another_shape_is_refused(tmp_path):
    rules = tmp_path / "safety.yml"
    rules.write_text(
        "rules:\n  - rule: r\n    steps:\n      - intent: abuse\n      - action: utter_greet\n"
    )
    with pytest.raises(SafetyRulesError, match="utter_X"):
        safety_intents_from(rules)


def test_each_safety_intent_is_answered_by_its_own_fixed_rule(domain):
    """The paused-conversation safety answer (rasa_server/paused_safety.py) runs
    `utter_<intent>` directly; the rules must give the same answer everywhere else."""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    rules = YAMLStoryReader(domain).read_from_file(str(ROOT / "data" / "rules" / "safety.yml"))
    answered = {}
    for rule in rules:
        intent, action = rule.events[-2], rule.events[-1]
        answered[intent.intent_name] = action.action_name
    assert answered == {intent: f"utter_{intent}" for intent in SAFETY_INTENTS}
    assert all(f"utter_{intent}" in domain.responses for intent in SAFETY_INTENTS)


def test_every_intent_opens_a_rule(domain):
    """The dialogue runs on rules and memorised stories only (config.yml): an intent that no
    rule starts with would get Rasa's default fallback instead of an answer. Rasa answers its
    own intents (`/restart`, `/back`, `/session_start`) itself."""
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    reader = YAMLStoryReader(domain)
    opened: set[str] = set()
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in reader.read_from_file(str(path)):
            said = [event for event in rule.events if isinstance(event, UserUttered)]
            opened.update(event.intent_name for event in said[:1])
    rasa_answers = {"restart", "back", "session_start"}
    assert sorted(set(domain.intents) - rasa_answers - opened) == []


def test_a_turn_no_rule_covers_still_gets_a_reply(domain):
    """Rasa's core fallback action says `utter_default`, and says nothing when it is missing."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    [rules] = [policy for policy in config["policies"] if policy["name"] == "RulePolicy"]
    assert rules["core_fallback_action_name"] == "action_default_fallback"
    [reply] = domain.responses["utter_default"]
    assert reply["text"].strip()
