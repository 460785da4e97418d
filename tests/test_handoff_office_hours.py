"""The promise made to applicants, with the clock injected: inside, outside, weekend, holiday."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from desk.office_hours import OfficeHours, load_bank_holidays
from desk.settings import OfficeHoursSettings

UK = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def office() -> OfficeHours:
    return OfficeHours.from_settings(OfficeHoursSettings())


def uk(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UK)


def test_inside_office_hours_promises_minutes(office: OfficeHours):
    moment = uk(2026, 11, 25, 10, 30)  # a Wednesday
    assert office.is_open(moment)
    assert office.promise(moment, 30) == "within about 30 minutes"
    assert office.promise(moment, 45) == "within about 45 minutes"


def test_summer_time_is_uk_time_not_utc(office: OfficeHours):
    # 08:30 UTC is 09:30 in London in June (BST): open.
    assert office.is_open(datetime(2026, 6, 10, 8, 30, tzinfo=timezone.utc))
    # 16:30 UTC is 17:30 BST: closed.
    assert not office.is_open(datetime(2026, 6, 10, 16, 30, tzinfo=timezone.utc))


def test_after_closing_promises_the_next_working_day(office: OfficeHours):
    moment = uk(2026, 11, 25, 17, 0)  # closing time itself is outside
    assert not office.is_open(moment)
    assert office.promise(moment, 30) == (
        "on the next working day, Thursday 26 November, after 9am"
    )


def test_before_opening_promises_later_today(office: OfficeHours):
    assert office.promise(uk(2026, 11, 25, 7, 45), 30) == "today, after 9am (UK time)"


def test_weekend_promises_monday(office: OfficeHours):
    saturday = uk(2026, 11, 28, 11, 0)
    assert not office.is_open(saturday)
    assert office.promise(saturday, 30) == "on the next working day, Monday 30 November, after 9am"


def test_bank_holidays_are_skipped(office: OfficeHours):
    # Friday 25 December 2026 is Christmas; Monday 28th is the Boxing Day substitute.
    christmas = uk(2026, 12, 25, 11, 0)
    assert not office.is_open(christmas)
    assert office.promise(christmas, 30) == (
        "on the next working day, Tuesday 29 December, after 9am"
    )
    # Easter 2027: Good Friday 26 March and Easter Monday 29 March.
    assert office.next_opening(uk(2027, 3, 25, 18, 0)) == uk(2027, 3, 30, 9, 0)


def test_configured_hours_are_used():
    office = OfficeHours.from_settings(
        OfficeHoursSettings(opens=OfficeHoursSettings().opens.replace(hour=8, minute=30))
    )
    assert office.is_open(uk(2026, 11, 25, 8, 45))
    assert office.promise(uk(2026, 11, 25, 6, 0), 30) == "today, after 8:30am (UK time)"


def test_the_shipped_bank_holidays_cover_2026_and_2027():
    days = load_bank_holidays(OfficeHoursSettings().bank_holidays_file)
    assert {day.year for day in days} == {2026, 2027}
    assert len(days) == 16
    assert all(day.weekday() < 5 for day in days), "bank holidays fall on weekdays"
