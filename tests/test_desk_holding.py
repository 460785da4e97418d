"""Holding messages, with the clock injected, and a clean stop of the loop that sends them."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from desk.office_hours import OfficeHours
from desk.rasa_api import RasaApi
from desk.service import Desk
from desk.settings import OfficeHoursSettings
from desk.storage import NewHandoff, Store, migrate
from tests.desk_support import TOKEN, StandInRasa, running_desk

UK = ZoneInfo("Europe/London")
WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=UK).timestamp()
FRIDAY_6PM = datetime(2026, 11, 27, 18, 0, tzinfo=UK).timestamp()
MINUTE = 60.0


def make_desk(tmp_path: Path, rasa: StandInRasa, now: list) -> Desk:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate(url)
    return Desk(
        store=Store(url),
        rasa=RasaApi(rasa.url, TOKEN, 10),
        office=OfficeHours.from_settings(OfficeHoursSettings()),
        clock=lambda: now[0],
        holding_after_s=15 * MINUTE,
    )


def waiting_since(desk: Desk, sender: str, at: float) -> int:
    return desk.store.create_handoff(
        NewHandoff(sender, "socketio", "general", "asked for a person", "", [], at)
    )


async def test_one_holding_message_after_the_wait_in_office_hours(tmp_path, rasa):
    now = [WEDNESDAY_10AM]
    desk = make_desk(tmp_path, rasa, now)
    waiting_since(desk, "waiting-applicant", WEDNESDAY_10AM)

    now[0] += 14 * MINUTE
    assert await desk.send_holding_messages() == 0
    now[0] += 2 * MINUTE
    assert await desk.send_holding_messages() == 1
    [(sender, [event])] = rasa.posted
    assert sender == "waiting-applicant" and "Thanks for waiting" in event["text"]
    now[0] += 30 * MINUTE
    assert await desk.send_holding_messages() == 0, "only one holding message"


async def test_a_claimed_handoff_gets_no_holding_message(tmp_path, rasa):
    now = [WEDNESDAY_10AM]
    desk = make_desk(tmp_path, rasa, now)
    handoff = waiting_since(desk, "claimed-applicant", WEDNESDAY_10AM)
    desk.store.claim(handoff, "alice", WEDNESDAY_10AM + MINUTE)
    now[0] += 60 * MINUTE
    assert await desk.send_holding_messages() == 0


async def test_out_of_hours_handoffs_get_no_holding_message(tmp_path, rasa):
    now = [FRIDAY_6PM + 60 * MINUTE]
    desk = make_desk(tmp_path, rasa, now)
    waiting_since(desk, "friday-evening", FRIDAY_6PM)
    assert await desk.send_holding_messages() == 0  # still closed
    now[0] = datetime(2026, 11, 30, 9, 30, tzinfo=UK).timestamp()  # Monday morning
    assert await desk.send_holding_messages() == 0, "they were promised the next working day"


async def test_a_failed_holding_message_is_tried_again(tmp_path, rasa):
    now = [WEDNESDAY_10AM + 20 * MINUTE]
    desk = make_desk(tmp_path, rasa, now)
    waiting_since(desk, "unlucky", WEDNESDAY_10AM)
    rasa.fail = True
    assert await desk.send_holding_messages() == 0
    rasa.fail = False
    assert await desk.send_holding_messages() == 1


def test_simultaneous_claims_on_separate_connections_have_one_winner(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate(url)
    stores = [Store(url), Store(url)]
    for round_number in range(20):
        handoff = stores[0].create_handoff(
            NewHandoff(f"race-{round_number}", "rest", "general", "asked", "", [], 1.0)
        )
        barrier = threading.Barrier(2)
        wins: list = []

        def claim(
            store: Store, name: str, handoff: int = handoff, barrier=barrier, wins: list = wins
        ) -> None:
            barrier.wait()
            if store.claim(handoff, name, 2.0):
                wins.append(name)

        threads = [
            threading.Thread(target=claim, args=(store, name))
            for store, name in zip(stores, ["alice", "bob"], strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(wins) == 1
        assert (stores[0].get_handoff(handoff) or {})["claimed_by"] == wins[0]


def test_stopping_the_desk_leaves_no_pending_holding_task(tmp_path: Path, rasa: StandInRasa):
    """The holding loop is stopped and awaited when the server stops, so the log stays clean."""
    with running_desk(tmp_path, rasa) as running:
        running.add_handoff("waiting-at-shutdown")
        assert requests.get(f"{running.url}/health", timeout=10).ok
    log = (tmp_path / "desk.log").read_text(errors="replace")
    assert "Server Stopped" in log, log
    assert "Task was destroyed but it is pending" not in log, log
    assert "was never awaited" not in log, log
