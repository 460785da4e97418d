"""A conversation with the real Rasa server and action server over HTTP."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest
import requests
from rasa.shared.nlu.training_data.loading import load_data

from scripts.stack import ROOT, Stack
from tests.conftest import rest_id, say, texts


@pytest.fixture(scope="module")
def faq_answers() -> Dict[str, str]:
    responses = load_data(str(ROOT / "data" / "responses")).responses
    return {name: variants[0]["text"] for name, variants in responses.items()}


@pytest.fixture
def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_a_conversation(stack: Stack, sender: str, faq_answers):
    greeting = texts(say(stack, sender, "hi there"))
    assert "automated assistant" in greeting and "personal" in greeting

    answer = say(stack, sender, "what is developed vetting and what does it involve?")
    assert texts(answer) == faq_answers["utter_faq/process_vetting"]
    assert answer[0]["buttons"], "FAQ answers offer next steps as quick replies"

    # A quick reply naming a topic answers exactly that topic.
    assert (
        texts(say(stack, sender, "faq/process_duration"))
        == faq_answers["utter_faq/process_duration"]
    )

    assert "999" in texts(say(stack, sender, "I need to report someone planning an attack"))
    # Asking for a person queues the conversation for a recruiter (tests/test_handoff_flow.py).
    assert "A recruiter will reply here" in texts(say(stack, sender, "/request_human"))


# Words the assistant was never taught: not understood, with no guess (components/unknown_words.py).
GARBLED = ("Blorft snazzle quimbo trendal?", "wuxxle frampt ozzog plinthery")


def test_not_understood_twice_offers_a_recruiter(stack: Stack, sender: str):
    first = texts(say(stack, sender, GARBLED[0]))
    assert "put it another way" in first
    second = say(stack, sender, GARBLED[1])
    assert "recruiter" in texts(second)
    assert "A recruiter will reply here" in texts(say(stack, sender, "/affirm"))


def test_off_topic_twice_says_what_it_covers_and_offers_no_recruiter(
    stack: Stack, sender: str, domain
):
    covers = domain["responses"]["utter_out_of_scope"][0]["text"]
    for message in ("what's the best pizza topping", "who won the football last night"):
        replies = say(stack, sender, message)
        assert texts(replies) == covers
        assert "/search_vacancies" in [button["payload"] for button in replies[0]["buttons"]]


def unsure_turn(stack: Stack, sender: str, candidates: List[str]) -> Dict[str, Any]:
    """A message the NLU was unsure about, with its guesses, as the NLU reports it (intent
    nlu_fallback, parse data `topic_candidates`): added through the HTTP API, then the action
    the rules choose for it run. The assistant's one reply."""
    say(stack, sender, "hello")  # so the message comes, as every message does, after a listen
    url, auth = f"{stack.url}/conversations/{rest_id(sender)}", {"token": stack.token}
    text = "vettin age thingy??"
    parse = {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "entities": [],
        "topic_candidates": candidates,
    }
    added = requests.post(
        f"{url}/tracker/events",
        params=auth,
        json=[{"event": "user", "text": text, "parse_data": parse}],
        timeout=30,
    )
    assert added.ok, added.text
    scores = requests.post(f"{url}/predict", params=auth, timeout=30).json()["scores"]
    action = max(scores, key=lambda score: score["score"])["action"]
    assert action == "action_not_understood"
    ran = requests.post(f"{url}/execute", params=auth, json={"name": action}, timeout=60)
    assert ran.ok, ran.text
    # The rules' next prediction (execute runs one action only): wait for the applicant.
    listen = [{"event": "action", "name": "action_listen"}]
    assert requests.post(f"{url}/tracker/events", params=auth, json=listen, timeout=30).ok
    [reply] = ran.json()["messages"]
    return reply


def test_did_you_mean_then_a_chosen_title_answers_that_topic(
    stack: Stack, sender: str, faq_answers
):
    guesses = ["faq/process_vetting", "faq/eligibility_age", "search_vacancies", "faq/life_salary"]
    question = unsure_turn(stack, sender, guesses)
    assert "Did you mean" in question["text"]
    buttons = question["buttons"]
    assert [button["title"] for button in buttons] == [
        "Security vetting", "Age limits", "Current vacancies", "Something else",
    ]  # fmt: skip
    tracker = requests.get(
        f"{stack.url}/conversations/{rest_id(sender)}/tracker",
        params={"token": stack.token},
        timeout=30,
    ).json()
    asked = [event for event in tracker["events"] if event["event"] == "bot"][-1]
    assert asked["metadata"]["utter_action"] == "utter_did_you_mean"

    answer = say(stack, sender, buttons[0]["payload"])
    assert texts(answer) == faq_answers["utter_faq/process_vetting"]
    assert "What kind of role" in texts(say(stack, sender, buttons[2]["payload"]))


def test_something_else_asks_to_rephrase_then_one_more_miss_offers_a_recruiter(
    stack: Stack, sender: str
):
    something_else = unsure_turn(stack, sender, ["faq/process_vetting"])["buttons"][-1]
    assert something_else["title"] == "Something else"
    assert "put it another way" in texts(say(stack, sender, something_else["payload"]))
    assert "talk to a recruiter" in texts(say(stack, sender, GARBLED[0]))


def test_the_conversation_is_kept_in_the_tracker_store(stack: Stack, sender: str):
    say(stack, sender, "hello")
    url = f"{stack.url}/conversations/{rest_id(sender)}/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    tracker = requests.get(url, params={"token": stack.token}, timeout=10).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hello"]


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "x" * 4_000,  # the longest message the channel takes (channels/limits.py)
        "why " * 1_000,
        "😀😀😀🙏",
        "مرحبا، هل يمكنني العمل في MI5؟",
        "我可以申请MI5的工作吗？",  # noqa: RUF001
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "/not_an_intent",
        '/faq{"broken json',
    ],
    ids=["empty", "blank", "4k-chars", "1k-words", "emoji", "arabic", "chinese", "script",
         "img-onerror", "unknown-intent", "broken-payload"],
)  # fmt: skip
def test_bad_input_gets_a_sensible_reply(stack: Stack, sender: str, message: str):
    replies = say(stack, sender, message)
    assert replies and all(reply.get("text") for reply in replies)
    assert "<script" not in texts(replies) and "onerror" not in texts(replies)
