"""The Insights page, its CSV and GET /api/insights on a real desk process.

The desk runs its own roll-up every second here, over hand-counted conversations written into
its database (which is the tracker store's, as in `make run`) before it starts; the page is
read in Debian's headless Chromium at a laptop's and a phone's width.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from desk.storage import make_engine, migrate
from scripts.stack import Stack, free_port
from tests.desk_support import TOKEN as RASA_TOKEN
from tests.desk_support import Browser, Desk, StandInRasa, sign_in_browser
from tests.insights_support import (
    SECRET_SENDER,
    SECRET_TEXT,
    add_conversations,
    create_events_table,
    hand_counted,
    utc,
)

TODAY = datetime.now(timezone.utc).date()
DAY1, DAY2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
RANGE = f"from={DAY1}&to={DAY2}"


def noon(day: date) -> float:
    # 12:00 UTC is 12:00 or 13:00 in London: the same local day.
    return utc(f"{day.isoformat()}T12:00:00")


@pytest.fixture(scope="module")
def insights_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder: Path = tmp_path_factory.mktemp("insights")
    database_url = f"sqlite:///{folder / 'tracker.db'}"
    engine = make_engine(database_url)
    create_events_table(engine)
    add_conversations(engine, hand_counted(noon(DAY1), noon(DAY2)))
    engine.dispose()
    migrate(database_url)
    rasa = StandInRasa()
    with open(folder / "desk.log", "wb") as log:
        stack = Stack(
            rasa_port=rasa.server_address[1],
            token=RASA_TOKEN,
            desk_port=free_port(),
            log=log,
            env={"DESK_DATABASE_URL": database_url, "INSIGHTS_ROLLUP_SECONDS": "1"},
        )
        try:
            with stack.running(timeout=60, desk_only=True):
                yield Desk(stack, database_url)
        finally:
            rasa.server_close()


@pytest.fixture(scope="module")
def token(insights_desk: Desk) -> str:
    return insights_desk.add_recruiter("rita")


def api(desk: Desk, query: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{desk.url}/api/insights?{query}", headers=headers, timeout=30)


def rolled_up(desk: Desk, token: str) -> dict:
    """The figures once the desk's roll-up has counted the fixture."""
    deadline = time.monotonic() + 60
    while True:
        found = api(desk, RANGE, token).json()
        if found.get("conversations") == 12 or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_api_answers_with_the_hand_counted_figures(insights_desk: Desk, token: str) -> None:
    found = rolled_up(insights_desk, token)
    assert found["conversations"] == 12
    assert found["applicant_messages"] == 33
    assert found["answered_without_recruiter"] == 10
    assert found["containment"] == round(10 / 12, 3)
    assert found["off_topic"] == 5 and found["not_understood"] == 5
    assert found["top_topics"][0] == {
        "topic": "faq/process_vetting",
        "count": 12,
        "previous": 0,
        "change": 12,
    }
    for key in ("handoffs", "handoff_minutes_to_claim", "vacancy_searches"):
        assert key in found
    assert found["vacancy_searches_without_results"] == "fewer than 5"
    assert SECRET_TEXT not in str(found) and SECRET_SENDER not in str(found)
    only = api(insights_desk, f"{RANGE}&channel=instagram", token).json()
    assert only["conversations"] == 5


@pytest.mark.parametrize("secret", [None, "not-a-token"])
def test_api_needs_a_bearer_token(insights_desk: Desk, secret: str | None) -> None:
    reply = api(insights_desk, RANGE, secret)
    assert reply.status_code == 401
    assert "conversations" not in reply.text


@pytest.mark.parametrize(
    "query, says",
    [
        ("from=2026-02-30&to=2026-03-01", "YYYY-MM-DD"),
        ("from=last%20week&to=2026-03-01", "YYYY-MM-DD"),
        ("to=2026-03-01", "'from'"),
        ("from=2026-03-02&to=2026-03-01", "before"),
        ("from=2025-01-01&to=2026-01-03", "366"),
    ],
)
def test_api_refuses_bad_dates(insights_desk: Desk, token: str, query: str, says: str) -> None:
    reply = api(insights_desk, query, token)
    assert reply.status_code == 400
    assert says in reply.json()["error"]


def test_csv_export(insights_desk: Desk, token: str) -> None:
    rolled_up(insights_desk, token)
    browser = Browser(insights_desk.url)
    assert browser.request("GET", f"/insights.csv?{RANGE}").status_code in (302, 401)
    browser.sign_in("rita")
    reply = browser.request("GET", f"/insights.csv?{RANGE}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "headline,conversations,12" in reply.text
    assert "topic,faq/process_vetting,12,0,12" in reply.text
    assert "headline,vacancy_searches_without_results,fewer than 5" in reply.text
    assert SECRET_TEXT not in reply.text and SECRET_SENDER not in reply.text
    assert browser.request("GET", "/insights.csv?from=nope").status_code == 400


def test_page_in_chromium(insights_desk: Desk, token: str, browser: WebDriver) -> None:
    rolled_up(insights_desk, token)
    browser.set_window_size(1280, 900)
    sign_in_browser(browser, insights_desk.url, "rita")
    browser.get(f"{insights_desk.url}/insights?{RANGE}")
    assert browser.find_element(By.ID, "fig-conversations").text == "12"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-daily rect.bar")) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-daily polyline")
    topic_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-topics rect.bar")
    assert len(topic_bars) >= 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-handoffs rect")) == 4
    html = browser.page_source
    assert SECRET_TEXT not in html and SECRET_SENDER not in html
    assert "fewer than 5" in html
    # A phone: nothing wider than the screen.
    browser.set_window_size(390, 844)
    browser.get(f"{insights_desk.url}/insights?{RANGE}")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => "
        "e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + "
        "Math.round(e.getBoundingClientRect().right)).slice(0, 12)"
    )
    assert overflow <= 1, wide
    browser.get(f"{insights_desk.url}/insights?from=2026-01-01&to=2027-06-01")
    assert "at most 366 days" in browser.find_element(By.ID, "insights-error").text
