"""DMs asked "for the live": the phrase matcher, the Q&A schedule's windows, the ids."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from channels.instagram.live_dm_questions import (
    asks_for_the_live,
    dm_question_id,
    is_dm_question_id,
)
from channels.instagram.qa_windows import QaSchedule
from channels.instagram.settings import (
    DEFAULT_QA_EVENTS_FILE,
    InstagramSettings,
    SettingsError,
)

STARTS = datetime(2027, 1, 14, 18, 0, tzinfo=timezone.utc)
SECRETS = {"verify_token": "v", "app_secret": "a", "access_token": "t"}


@pytest.mark.parametrize(
    "text",
    [
        "Question for the live: do I need a degree?",
        "FOR THE LIVE - can I apply at 17?",
        "for the Q&A, how long does vetting take?",
        "for the q & a: is there a dress code?",
        "For the Q and A: can dual nationals apply?",
        "for today's live: what do analysts do?",
        "For tonight\u2019s Q&A \u2014 can I tell my family?",
        "for the livestream: how do I apply?",
        "Live question: what's the salary?",
        "a question for the hosts: how did you join?",
        "Question for the panel - is it all in London?",
    ],
)
def test_questions_meant_for_the_live_are_recognised(text):
    assert asks_for_the_live(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I apply?",
        "when is the next live Q&A?",
        "is there a live chat?",
        "I'd love to live in London, are there jobs there?",
        "do you have jobs for the lively?",
        "will the Q&A be recorded?",
        "I have a question for the recruiter",
        "",
        None,
    ],
)
def test_other_messages_are_not_taken_for_live_questions(text):
    assert not asks_for_the_live(text)


def test_dm_question_ids_are_stable_short_and_never_comment_ids():
    mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj" + "x" * 120
    assert dm_question_id(mid) == dm_question_id(mid)
    assert dm_question_id(mid) != dm_question_id(mid + "y")
    assert is_dm_question_id(dm_question_id(mid))
    assert len(dm_question_id(mid)) <= 64
    assert not is_dm_question_id("17900000000000001")


def schedule(tmp_path: Path, text: str, minutes: int = 120) -> QaSchedule:
    path = tmp_path / "qa_events.yml"
    path.write_text(text, encoding="utf-8")
    return QaSchedule(path, minutes)


def at(moment: datetime) -> float:
    return moment.timestamp()


ONE_EVENT = """
events:
  - title: Live Q&A with our technology graduates
    starts: 2027-01-14T18:00:00+00:00
    where: Instagram Live on @mi5official
"""


def test_a_window_opens_half_an_hour_early_and_lasts_the_default_duration(tmp_path):
    qa = schedule(tmp_path, ONE_EVENT, minutes=120)
    assert qa.at(at(STARTS - timedelta(minutes=31))) is None
    window = qa.at(at(STARTS - timedelta(minutes=30)))
    assert window is not None and window.media_id == "qa-2027-01-14T18:00:00Z"
    assert qa.at(at(STARTS + timedelta(minutes=119))) == window
    assert qa.at(at(STARTS + timedelta(minutes=120))) is None


def test_the_duration_is_configurable(tmp_path):
    qa = schedule(tmp_path, ONE_EVENT, minutes=45)
    assert qa.at(at(STARTS + timedelta(minutes=44))) is not None
    assert qa.at(at(STARTS + timedelta(minutes=46))) is None


def test_an_ends_time_closes_the_window_and_offsets_are_honoured(tmp_path):
    qa = schedule(
        tmp_path,
        "events:\n  - title: Summer Q&A\n    starts: 2027-06-10T19:00:00+01:00\n"
        "    ends: 2027-06-10T19:45:00+01:00\n",
    )
    starts = datetime(2027, 6, 10, 18, 0, tzinfo=timezone.utc)
    window = qa.at(at(starts + timedelta(minutes=44)))
    assert window is not None and window.media_id == "qa-2027-06-10T18:00:00Z"
    assert qa.at(at(starts + timedelta(minutes=46))) is None


def test_bad_entries_are_skipped_and_the_others_still_count(tmp_path):
    qa = schedule(
        tmp_path,
        "events:\n  - title: no offset\n    starts: 2027-01-14T18:00:00\n"
        "  - title: ends first\n    starts: 2027-01-14T18:00:00+00:00\n"
        "    ends: 2027-01-14T17:00:00+00:00\n"
        "  - title: fine\n    starts: 2027-01-14T18:00:00+00:00\n",
    )
    assert qa.at(at(STARTS)) is not None


@pytest.mark.parametrize("text", ["events: [", "events: []", "", "- not a mapping"])
def test_an_unreadable_or_empty_schedule_means_no_qa_is_on(tmp_path, text):
    assert schedule(tmp_path, text).at(at(STARTS)) is None


def test_a_missing_schedule_means_no_qa_is_on(tmp_path):
    assert QaSchedule(tmp_path / "absent.yml").at(at(STARTS)) is None


def test_an_edited_schedule_is_read_again(tmp_path):
    qa = schedule(tmp_path, "events: []\n")
    assert qa.at(at(STARTS)) is None
    path = tmp_path / "qa_events.yml"
    path.write_text(ONE_EVENT, encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert qa.at(at(STARTS)) is not None


def test_the_shipped_schedule_is_where_the_channel_looks_and_parses():
    document = yaml.safe_load(DEFAULT_QA_EVENTS_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and isinstance(document.get("events"), list)


def test_live_qa_settings_come_from_the_environment(tmp_path):
    env = {"QA_EVENTS_FILE": str(tmp_path / "q.yml"), "INSTAGRAM_LIVE_QA_MINUTES": "90"}
    settings = InstagramSettings.load(SECRETS, env)
    assert settings.qa_events_file == tmp_path / "q.yml"
    assert settings.live_qa_minutes == 90
    defaults = InstagramSettings.load(SECRETS, {})
    assert defaults.qa_events_file == DEFAULT_QA_EVENTS_FILE
    assert defaults.live_qa_minutes == 120
    with pytest.raises(SettingsError, match="INSTAGRAM_LIVE_QA_MINUTES"):
        InstagramSettings.load(SECRETS, {"INSTAGRAM_LIVE_QA_MINUTES": "0"})
