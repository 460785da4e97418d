"""Custom actions, run with rasa-sdk's own Tracker and CollectingDispatcher."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

import pytest
from prometheus_client import REGISTRY
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import not_understood_in_a_row
from actions.not_understood import ActionNotUnderstood, ActionOffTopic
from actions.offers import ActionAnswerOffer
from actions.qa_events import ActionShowQaEvents
from actions.settings import Settings
from tests.conftest import TrackerFactory, user_event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def responses(dispatcher: CollectingDispatcher) -> list:
    return [message.get("response") for message in dispatcher.messages]


def fallbacks(reply: str) -> float:
    """The action server's careers_fallbacks_total for one reply (observability/metrics.py)."""
    return REGISTRY.get_sample_value("careers_fallbacks_total", {"reply": reply}) or 0.0


async def test_first_miss_asks_to_rephrase(make_tracker: TrackerFactory, dispatcher, domain):
    tracker = make_tracker(["greet", "nlu_fallback"])
    events = await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_rephrase"]
    assert events == [{"event": "slot", "timestamp": None, "name": "offer", "value": None}]


async def test_second_miss_in_a_row_offers_a_recruiter(make_tracker, dispatcher, domain):
    tracker = make_tracker(["greet", "nlu_fallback", "nlu_fallback"])
    events = await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_recruiter"]
    assert events[0]["name"] == "offer" and events[0]["value"] == "recruiter"


async def test_misses_separated_by_an_understood_message_start_again(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(["nlu_fallback", "faq", "nlu_fallback"])
    await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_rephrase"]


# Off-topic: understood, so it says what the assistant covers and never counts as a miss.


async def test_off_topic_says_what_the_assistant_covers(make_tracker, dispatcher, domain):
    before = fallbacks("off_topic")
    tracker = make_tracker(["out_of_scope"], {"offer": "recruiter"})
    events = await ActionOffTopic().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_out_of_scope"]
    assert events == [{"event": "slot", "timestamp": None, "name": "offer", "value": None}]
    assert fallbacks("off_topic") == before + 1
    [answer] = domain["responses"]["utter_out_of_scope"]
    assert "another way" not in answer["text"] and "careers" in answer["text"]
    assert len(answer["text"].encode("utf-8")) <= 1000 and answer["buttons"]


async def test_two_off_topic_messages_in_a_row_offer_no_recruiter(make_tracker, dispatcher, domain):
    await ActionOffTopic().run(dispatcher, make_tracker(["out_of_scope", "out_of_scope"]), domain)
    assert responses(dispatcher) == ["utter_out_of_scope"]
    assert not_understood_in_a_row(make_tracker(["out_of_scope", "out_of_scope"])) == 0


@pytest.mark.parametrize(
    "before", [["out_of_scope", "out_of_scope"], ["nlu_fallback", "out_of_scope"]]
)
async def test_a_miss_after_off_topic_messages_asks_to_rephrase(
    before, make_tracker, dispatcher, domain
):
    await ActionNotUnderstood().run(dispatcher, make_tracker([*before, "nlu_fallback"]), domain)
    assert responses(dispatcher) == ["utter_rephrase"]


# "Did you mean…?": the NLU was unsure but had guesses (parse data `topic_candidates`).


def unsure(*candidates: str, text: str = "vettin age thing?") -> Dict[str, Any]:
    event = user_event("nlu_fallback", text, confidence=0.4)
    event["parse_data"]["topic_candidates"] = list(candidates)
    return event


SOMETHING_ELSE = user_event("nlu_fallback", "/nlu_fallback", confidence=1.0)


async def test_did_you_mean_offers_up_to_three_titled_guesses_and_something_else(
    make_tracker, dispatcher, domain
):
    before = fallbacks("did_you_mean")
    guesses = unsure(
        "faq/process_vetting", "faq/eligibility_age", "search_vacancies", "faq/life_salary"
    )
    events = await ActionNotUnderstood().run(dispatcher, make_tracker([guesses]), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_did_you_mean"
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Security vetting", "faq/process_vetting"),
        ("Age limits", "faq/eligibility_age"),
        ("Current vacancies", "/search_vacancies"),
        ("Something else", "/nlu_fallback"),
    ]
    assert all(len(button["title"]) <= 20 for button in message["buttons"])
    assert events == [{"event": "slot", "timestamp": None, "name": "offer", "value": None}]
    assert fallbacks("did_you_mean") == before + 1
    assert "Did you mean" in domain["responses"]["utter_did_you_mean"][0]["text"]


async def test_did_you_mean_offers_only_guesses_with_a_title(make_tracker, dispatcher, domain):
    guesses = unsure("distress", "faq/no_such_topic", "request_human", "request_human", "greet")
    await ActionNotUnderstood().run(dispatcher, make_tracker([guesses]), domain)
    [message] = dispatcher.messages
    assert [b["payload"] for b in message["buttons"]] == ["/request_human", "/nlu_fallback"]


@pytest.mark.parametrize("candidates", [[], ["greet", "distress"], "faq/process_vetting", None])
async def test_no_usable_guesses_asks_to_rephrase(candidates, make_tracker, dispatcher, domain):
    event = unsure()
    event["parse_data"]["topic_candidates"] = candidates
    await ActionNotUnderstood().run(dispatcher, make_tracker([event]), domain)
    assert responses(dispatcher) == ["utter_rephrase"]


async def test_something_else_asks_to_rephrase_and_one_more_miss_offers_a_recruiter(
    make_tracker, domain
):
    first, second = CollectingDispatcher(), CollectingDispatcher()
    conversation = [unsure("faq/process_vetting"), SOMETHING_ELSE]
    await ActionNotUnderstood().run(first, make_tracker(conversation), domain)
    assert responses(first) == ["utter_rephrase"]
    await ActionNotUnderstood().run(second, make_tracker([*conversation, "nlu_fallback"]), domain)
    assert responses(second) == ["utter_offer_recruiter"]


async def test_a_did_you_mean_turn_is_not_a_miss(make_tracker, dispatcher, domain):
    tracker = make_tracker(["nlu_fallback", unsure("faq/process_vetting")])
    await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_did_you_mean"]
    assert not_understood_in_a_row(tracker) == 1


async def test_yes_to_a_recruiter_offer_hands_over_to_a_recruiter(make_tracker, dispatcher, domain):
    tracker = make_tracker(["out_of_scope", "out_of_scope", "affirm"], {"offer": "recruiter"})
    events = await ActionAnswerOffer().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []
    assert events[0]["value"] is None
    assert events[1] == {
        "event": "followup",
        "timestamp": None,
        "name": "action_handoff_to_recruiter",
    }


async def test_no_to_a_recruiter_offer(make_tracker, dispatcher, domain):
    tracker = make_tracker(["deny"], {"offer": "recruiter"})
    await ActionAnswerOffer().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_declined"]


async def test_yes_out_of_the_blue_asks_what_it_answers(make_tracker, dispatcher, domain):
    tracker = make_tracker(["affirm"])
    await ActionAnswerOffer().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_unclear_yes_no"]


def qa_action(tmp_path: Path, body: str) -> ActionShowQaEvents:
    schedule = tmp_path / "qa_events.yml"
    schedule.write_text(body, encoding="utf-8")
    return ActionShowQaEvents(Settings(qa_events_file=schedule), clock=lambda: NOW)


async def test_qa_events_shows_only_future_events_soonest_first(
    tmp_path, make_tracker, dispatcher, domain
):
    action = qa_action(
        tmp_path,
        "events:\n"
        "  - {title: Later one, starts: '2027-07-01T17:30:00+01:00', where: Instagram Live}\n"
        "  - {title: Past one, starts: '2026-11-01T18:00:00+00:00', where: Instagram Live}\n"
        "  - {title: Next one, starts: '2026-12-03T18:00:00+00:00', where: Instagram Live}\n",
    )
    await action.run(dispatcher, make_tracker(["qa_events"]), domain)
    [message] = dispatcher.messages
    text = message["text"]
    assert "Past one" not in text
    assert text.index("Next one") < text.index("Later one")
    assert "Thursday 3 December 2026, 6pm (UK time)" in text
    assert "Thursday 1 July 2027, 5:30pm (UK time)" in text


async def test_qa_events_says_when_none_is_scheduled(tmp_path, make_tracker, dispatcher, domain):
    action = qa_action(tmp_path, "events:\n  - {title: Old, starts: '2026-01-01T18:00:00+00:00'}\n")
    await action.run(dispatcher, make_tracker(["qa_events"]), domain)
    assert responses(dispatcher) == ["utter_no_qa_events"]


async def test_a_bad_event_does_not_hide_the_good_ones(tmp_path, make_tracker, dispatcher, domain):
    action = qa_action(
        tmp_path,
        "events:\n"
        "  - {title: No offset, starts: '2026-12-03T18:00:00'}\n"
        "  - {title: Missing start}\n"
        "  - {title: Good one, starts: '2026-12-10T18:00:00+00:00'}\n",
    )
    await action.run(dispatcher, make_tracker(["qa_events"]), domain)
    [message] = dispatcher.messages
    assert "Good one" in message["text"] and "No offset" not in message["text"]


async def test_an_unreadable_schedule_still_gets_an_answer(
    tmp_path, make_tracker, dispatcher, domain
):
    action = qa_action(tmp_path, "events: [unclosed\n")
    await action.run(dispatcher, make_tracker(["qa_events"]), domain)
    assert responses(dispatcher) == ["utter_no_qa_events"]


def test_the_shipped_schedule_loads(tmp_path):
    from contracts.qa_schedule import load_schedule

    assert isinstance(load_schedule(Settings.from_env().qa_events_file), list)
