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

from contracts.qa_schedule import QaEvent, parse_events

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
    """Every event's window (contracts/qa_schedule.py reads the events, skipping bad ones as
    the action server does)."""
    return [window_of(event, default_minutes) for event in parse_events(document)]


def window_of(event: QaEvent, default_minutes: int) -> QaWindow:
    closes = event.ends or event.starts + timedelta(minutes=default_minutes)
    opens = event.starts - timedelta(seconds=LEAD_SECONDS)
    return QaWindow(starts=event.starts, opens=opens, closes=closes)


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
