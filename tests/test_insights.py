"""Insights figures against hand-counted fixtures, on SQLite and PostgreSQL.

Day 1 (Monday 2 November 2026, office hours): five Instagram applicants each ask about
vetting and say something off-topic; one also asks about age; two of them ask for a person
and are handed over. Two web chat applicants ask about vetting and search for vacancies (one
search shows nothing). Day 2: five web chat applicants ask about vetting and pay, are not
understood once and shown "did you mean"; one of them writes a distress message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from desk import applicant_records as desk_records
from desk.insights.conversations import Event, summarise
from desk.insights.figures import FEWER_THAN_5, BadRange, Range, figures
from desk.insights.rollup import LOCK_KEY, Rollup
from desk.insights.settings import InsightsSettings
from desk.settings import OfficeHoursSettings
from desk.storage import Store, make_engine, migrate
from privacy import tracker_events
from scripts.stack import ROOT, quiet_env
from tests.insights_support import (
    SECRET_SENDER,
    SECRET_TEXT,
    add_conversations,
    add_handoff,
    create_events_table,
    hand_counted,
    instagram,
    steps_rows,
    utc,
    write,
)
from tests.production.services import POSTGRES_URL, fresh_postgres_database

DAY1, DAY2 = "2026-11-02", "2026-11-03"
NOON1, NOON2 = utc(f"{DAY1}T10:00:00"), utc(f"{DAY2}T10:00:00")
AFTER = utc("2026-11-04T12:00:00")  # when the roll-up runs


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    made = fresh_postgres_database()
    name = next(made)
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    next(made, None)


@pytest.fixture
def rollup(database: str) -> Iterator[Rollup]:
    engine = make_engine(database)
    create_events_table(engine)
    migrate(database)
    add_conversations(engine, hand_counted(NOON1, NOON2))
    store = Store(database)
    # Five handoffs on day 1 in office hours (reply promised within 30 minutes).
    times = [(2, 5), (4, 10), (6, 15), (8, 20), (10, 60)]
    for index, (claim, reply) in enumerate(times):
        reason = "asked for a person" if index < 3 else "not understood twice"
        add_handoff(store, instagram(index), NOON1 + index * 60, reason, claim, reply)
    store.engine.dispose()
    engine.dispose()
    settings = InsightsSettings(
        tracker_db_url=database,
        desk_db_url=database,
        insights_db_url=database,
        office=OfficeHoursSettings(),
        open_days=28,
    )
    job = Rollup(settings)
    yield job
    job.dispose()


def read(job: Rollup, start: str, end: str, channel: str | None = None) -> dict:
    with job.insights.connect() as db:
        return figures(db, Range.parse(start, end, channel))


def test_figures_match_the_hand_count(rollup: Rollup) -> None:
    rollup.run(AFTER)
    day1 = read(rollup, DAY1, DAY1)
    assert day1["conversations"] == 7
    assert day1["applicant_messages"] == 17  # 3 + 3 + 3 + 2 + 2 + 2 + 2
    assert day1["answered_without_recruiter"] == 5
    assert day1["containment"] == round(5 / 7, 3)
    assert day1["handed_over_conversations"] == FEWER_THAN_5  # 2
    assert day1["off_topic"] == 5
    assert day1["not_understood"] == 0
    assert day1["safety_messages"] == 0
    assert day1["top_topics"][0] == {
        "topic": "faq/process_vetting",
        "count": 7,
        "previous": 0,
        "change": 7,
    }
    hidden = {item["topic"]: item["count"] for item in day1["top_topics"][1:]}
    assert hidden == {
        "faq/eligibility_age": FEWER_THAN_5,
        "request_human": FEWER_THAN_5,
        "search_vacancies": FEWER_THAN_5,
    }
    assert day1["vacancy_searches"] == FEWER_THAN_5
    assert day1["vacancy_searches_without_results"] == FEWER_THAN_5

    day2 = read(rollup, DAY2, DAY2)
    assert (day2["conversations"], day2["applicant_messages"]) == (5, 16)
    assert day2["containment"] == 1.0
    assert (day2["not_understood"], day2["did_you_mean_shown"]) == (5, 5)
    assert day2["safety_messages"] == FEWER_THAN_5
    topics = {item["topic"]: item for item in day2["top_topics"]}
    assert topics["faq/process_vetting"]["change"] == 5 - 7
    assert topics["faq/pay_salary"] == {
        "topic": "faq/pay_salary",
        "count": 5,
        "previous": 0,
        "change": 5,
    }

    both = read(rollup, DAY1, DAY2)
    assert (both["conversations"], both["applicant_messages"]) == (12, 33)
    assert both["answered_without_recruiter"] == 10
    assert [day["conversations"] for day in both["per_day"]] == [7, 5]


def test_channel_filter(rollup: Rollup) -> None:
    rollup.run(AFTER)
    only = read(rollup, DAY1, DAY1, "instagram")
    assert (only["conversations"], only["applicant_messages"]) == (5, 13)
    assert only["containment"] == 0.6
    assert read(rollup, DAY1, DAY1, "socketio")["conversations"] == FEWER_THAN_5
    assert read(rollup, DAY1, DAY1, "nowhere")["conversations"] == 0


def test_handoff_times_and_promise(rollup: Rollup) -> None:
    rollup.run(AFTER)
    day1 = read(rollup, DAY1, DAY1)
    assert day1["handoffs"] == 5
    assert day1["handoff_minutes_to_claim"] == {"median": 6.0, "p90": 9.2}
    assert day1["handoff_minutes_to_first_reply"] == {"median": 15.0, "p90": 44.0}
    assert day1["handoffs_answered_within_promise"] == 0.8  # the 60-minute reply was late
    assert day1["handoff_reasons"] == [
        {"reason": "asked for a person", "count": FEWER_THAN_5},
        {"reason": "not understood twice", "count": FEWER_THAN_5},
    ]


def test_late_events_land_on_the_conversations_day(rollup: Rollup) -> None:
    rollup.run(AFTER)
    engine = make_engine(rollup.settings.tracker_db_url)
    # Instagram applicant 3 writes again just after midnight, in the same session; the rows
    # arrive after the first roll-up.
    write(engine, steps_rows(instagram(3), "instagram", NOON2 - 10 * 3600, [("faq", "pay_salary")]))
    engine.dispose()
    rollup.run(AFTER + 60)
    assert read(rollup, DAY1, DAY1)["applicant_messages"] == 18
    assert read(rollup, DAY2, DAY2)["applicant_messages"] == 16
    # Running again with nothing new changes nothing.
    rollup.run(AFTER + 120)
    assert read(rollup, DAY1, DAY2)["applicant_messages"] == 34


def test_erased_conversations_drop_out(rollup: Rollup) -> None:
    rollup.run(AFTER)
    engine = make_engine(rollup.settings.tracker_db_url)
    with engine.begin() as db:
        tracker_events.erase_sender(db, instagram(4))
    desk_records.erase_sender(engine, instagram(4), AFTER)
    engine.dispose()
    rollup.run(AFTER + 60)
    day1 = read(rollup, DAY1, DAY1)
    assert (day1["conversations"], day1["applicant_messages"]) == (6, 15)
    assert day1["off_topic"] == FEWER_THAN_5  # 4 conversations now
    assert day1["handoffs"] == FEWER_THAN_5  # 4 handoffs now
    assert day1["handoff_minutes_to_claim"] == {"median": FEWER_THAN_5, "p90": FEWER_THAN_5}


def test_closed_days_keep_their_counts_without_the_ledger(rollup: Rollup) -> None:
    rollup.run(AFTER)
    later = AFTER + 40 * 86400  # both days are now older than the open window
    rollup.run(later)
    assert read(rollup, DAY1, DAY2)["conversations"] == 12
    with rollup.insights.connect() as db:
        for table in ("insights_conversations", "insights_conversation_topics"):
            assert db.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0
        ids = db.execute(sa.text("SELECT handoff_id FROM insights_handoffs")).all()
    assert ids and all(row[0] is None for row in ids)
    assert read(rollup, DAY1, DAY1)["handoffs"] == 5


def test_no_text_or_sender_id_in_the_figures_or_the_insights_tables(rollup: Rollup) -> None:
    rollup.run(AFTER)
    assert SECRET_TEXT not in json.dumps(read(rollup, DAY1, DAY2))
    assert SECRET_SENDER not in json.dumps(read(rollup, DAY1, DAY2))
    with rollup.insights.connect() as db:
        names = [name for name in sa.inspect(db).get_table_names() if name.startswith("insights")]
        for name in names:
            dump = json.dumps([list(row) for row in db.execute(sa.text(f"SELECT * FROM {name}"))])
            assert SECRET_TEXT not in dump and SECRET_SENDER not in dump, name


@pytest.mark.parametrize(
    "start, end",
    [("2026-13-01", "2026-12-01"), ("yesterday", "2026-11-02"), ("2026-11-02", None),
     ("2026-11-03", "2026-11-02"), ("2025-01-01", "2026-01-02")],
)  # fmt: skip
def test_bad_ranges_are_refused(start: str, end: str | None) -> None:
    with pytest.raises(BadRange):
        Range.parse(start, end)


def test_a_whole_year_is_allowed() -> None:
    assert Range.parse("2025-01-01", "2026-01-01").days == 366


def test_one_roll_up_at_a_time_on_postgresql(rollup: Rollup) -> None:
    if rollup.insights.dialect.name != "postgresql":
        pytest.skip("SQLite writers queue on the file")
    with rollup.insights.begin() as other:
        other.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        assert rollup.run(AFTER).skipped
    assert not rollup.run(AFTER).skipped
    assert read(rollup, DAY1, DAY1)["conversations"] == 7


def test_erasure_is_seen_with_the_insights_tables_in_another_database(
    rollup: Rollup, tmp_path: Path
) -> None:
    own = f"sqlite:///{tmp_path / 'insights.db'}"
    settings = replace(rollup.settings, insights_db_url=own)
    apart = Rollup(settings)
    try:
        apart.run(AFTER)
        assert read(apart, DAY1, DAY1)["conversations"] == 7
        engine = make_engine(settings.tracker_db_url)
        with engine.begin() as db:
            tracker_events.erase_sender(db, instagram(4))
        engine.dispose()
        assert apart.run(AFTER + 60).erased == 1
        assert read(apart, DAY1, DAY1)["conversations"] == 6
    finally:
        apart.dispose()


def test_the_command_line_roll_up(rollup: Rollup) -> None:
    url = rollup.settings.tracker_db_url
    if not url.startswith("sqlite"):
        pytest.skip("the same code as above; once is enough for the command line")
    # A long retention keeps the fixture's November days open today.
    env = {**quiet_env(), "DESK_DATABASE_URL": url, "TRACKER_DB_URL": url, "RETENTION_DAYS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "desk.insights", "rollup"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("insights roll-up: 12 applicants read again, 12 conver")
    assert SECRET_SENDER not in done.stdout + done.stderr
    broken = {**env, "TRACKER_DB_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    failed = subprocess.run(
        [sys.executable, "-m", "desk.insights", "rollup"],
        cwd=ROOT, env=broken, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.strip().endswith("insights roll-up failed: OperationalError")
    assert "secret" not in failed.stderr


def test_a_conversation_is_keyed_by_its_sessions_first_event() -> None:
    rows = [("action", "action_session_start"), ("session_started", None),
            ("action", "action_listen"), ("user", None), ("action", "action_session_start"),
            ("session_started", None), ("user", None)]  # fmt: skip
    stored = [
        Event(index, kind, NOON1, action, json.dumps({"input_channel": "rest"}))
        for index, (kind, action) in enumerate(rows, start=10)
    ]
    found = summarise(stored, ZoneInfo("Europe/London"))
    assert [(item.key, item.last_id, item.messages) for item in found] == [(10, 13, 1), (14, 16, 1)]
