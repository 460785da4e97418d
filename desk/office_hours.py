"""When recruiters are at work (UK time, weekdays, not bank holidays), and what to promise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import FrozenSet
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from desk.settings import OfficeHoursSettings


def load_bank_holidays(path: Path) -> FrozenSet[date]:
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    days = set()
    for entry in document.get("bank_holidays") or []:
        days.add(entry if isinstance(entry, date) else date.fromisoformat(str(entry)))
    return frozenset(days)


@dataclass(frozen=True)
class OfficeHours:
    opens: time
    closes: time
    zone: ZoneInfo
    bank_holidays: FrozenSet[date]

    @classmethod
    def from_settings(cls, settings: OfficeHoursSettings) -> OfficeHours:
        return cls(
            opens=settings.opens,
            closes=settings.closes,
            zone=ZoneInfo(settings.timezone),
            bank_holidays=load_bank_holidays(settings.bank_holidays_file),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.bank_holidays

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, moment: datetime) -> datetime:
        """The next time the desk opens at or after `moment` (aware, in the UK zone)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.opens, tzinfo=self.zone)

    def promise(self, moment: datetime, reply_minutes: int) -> str:
        """When recruiters aim to reply, as the end of "we aim to reply ...": an aim, not a
        promise, from the desk's settings (DESK_REPLY_MINUTES and the office hours)."""
        if self.is_open(moment):
            return f"within about {reply_minutes} minutes"
        opening = self.next_opening(moment)
        local = moment.astimezone(self.zone)
        at = _clock(opening)
        if opening.date() == local.date():
            return f"today, after {at} (UK time)"
        return f"on the next working day, {opening:%A} {opening.day} {opening:%B}, after {at}"


def _clock(moment: datetime) -> str:
    hour = moment.strftime("%I").lstrip("0")
    minutes = "" if moment.minute == 0 else moment.strftime(":%M")
    return f"{hour}{minutes}{moment.strftime('%p').lower()}"
