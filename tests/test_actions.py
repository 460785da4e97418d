"""Custom actions, run with rasa-sdk's own Tracker and CollectingDispatcher."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rasa_sdk.executor import CollectingDispatcher

from actions.not_understood import ActionNotUnderstood
from actions.offers import ActionAnswerOffer
from actions.qa_events import ActionShowQaEvents
from actions.settings import Settings
from tests.conftest import TrackerFactory

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def responses(dispatcher: CollectingDispatcher) -> list:
    return [message.get("response") for message in dispatcher.messages]


async def test_first_miss_asks_to_rephrase(make_tracker: TrackerFactory, dispatcher, domain):
    tracker = make_tracker(["greet", "out_of_scope"])
    events = await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_rephrase"]
    assert events == [{"event": "slot", "timestamp": None, "name": "offer", "value": None}]


async def test_second_miss_in_a_row_offers_a_recruiter(make_tracker, dispatcher, domain):
    tracker = make_tracker(["greet", "nlu_fallback", "out_of_scope"])
    events = await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_offer_recruiter"]
    assert events[0]["name"] == "offer" and events[0]["value"] == "recruiter"


async def test_misses_separated_by_an_understood_message_start_again(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(["out_of_scope", "faq", "out_of_scope"])
    await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_rephrase"]


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
    from actions.qa_schedule import load_schedule

    assert isinstance(load_schedule(Settings.from_env().qa_events_file), list)
