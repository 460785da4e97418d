"""A conversation with the real Rasa server and action server over HTTP."""

from __future__ import annotations

import uuid
from typing import Dict

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


def test_not_understood_twice_offers_a_recruiter(stack: Stack, sender: str):
    first = texts(say(stack, sender, "what's the best pizza topping"))
    assert "put it another way" in first
    second = say(stack, sender, "who won the football last night")
    assert "recruiter" in texts(second)
    assert "A recruiter will reply here" in texts(say(stack, sender, "/affirm"))


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
