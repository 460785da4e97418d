"""When a scheduled live Q&A is on, from the schedule trainers keep in data/qa_events.yml.

The file (QA_EVENTS_FILE, the same variable the action server reads) lists events with
``title``, ``starts`` (date, time and UTC offset) and ``where``, and optionally ``ends``.
A Q&A's window opens LEAD_SECONDS before it starts (applicants send questions ahead) and
closes at ``ends``, or INSTAGRAM_LIVE_QA_MINUTES (default 120) after the start when there
is no ``ends``. The file is read again whenever it changes, so an edit needs no restart; a
file that cannot be read means no Q&A is on (logged), never a failed message.

Each event has a stable id the desk's Live Q&A board groups its questions under:
``qa-<start in UTC, e.g. 2027-01-14T18:00:00Z>``, which cannot be an Instagram media id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, List, Tuple

import yaml

logger = logging.getLogger(__name__)

LEAD_SECONDS = 30 * 60
DEFAULT_MINUTES = 120


@dataclass(frozen=True)
class QaWindow:
    starts: datetime
    opens: datetime
    closes: datetime

    @property
    def media_id(self) -> str:
        return "qa-" + self.starts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def is_open(self, now: datetime) -> bool:
        return self.opens <= now < self.closes


def windows(document: Any, default_minutes: int) -> List[QaWindow]:
    """Every event's window; an entry without a usable ``starts`` (or a bad ``ends``) is
    skipped, as the action server skips it."""
    entries = document.get("events") if isinstance(document, dict) else None
    found = []
    for number, entry in enumerate(entries or [], 1):
        try:
            found.append(_window(entry, default_minutes))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("instagram.qa_schedule.event_skipped number=%d reason=%s", number, error)
    return found


def _window(entry: Any, default_minutes: int) -> QaWindow:
    starts = _moment(entry["starts"], "starts")
    ends = entry.get("ends")
    closes = _moment(ends, "ends") if ends else starts + timedelta(minutes=default_minutes)
    if closes <= starts:
        raise ValueError("'ends' must be after 'starts'")
    return QaWindow(starts=starts, opens=starts - timedelta(seconds=LEAD_SECONDS), closes=closes)


def _moment(value: Any, name: str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"'{name}' needs a date, time and UTC offset")
    return value


class QaSchedule:
    """The schedule file, re-read when its modification time changes."""

    def __init__(self, path: Path, default_minutes: int = DEFAULT_MINUTES) -> None:
        self._path = path
        self._default_minutes = default_minutes
        self._loaded: Tuple[float, List[QaWindow]] | None = None

    def at(self, epoch_seconds: float) -> QaWindow | None:
        """The Q&A whose window was open at that moment (the earliest, if windows overlap).

        The channel asks about the moment the applicant sent the message, as Meta stamps
        it, so a message delivered late still counts for the Q&A it was written during."""
        moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
        open_now = [window for window in self._windows() if window.is_open(moment)]
        return min(open_now, key=lambda window: window.starts) if open_now else None

    def _windows(self) -> List[QaWindow]:
        try:
            modified = self._path.stat().st_mtime
            if self._loaded is None or self._loaded[0] != modified:
                document = yaml.safe_load(self._path.read_text(encoding="utf-8"))
                self._loaded = (modified, windows(document, self._default_minutes))
        except (OSError, yaml.YAMLError) as error:
            logger.warning("instagram.qa_schedule.unreadable error=%s", type(error).__name__)
            return []
        return self._loaded[1]
