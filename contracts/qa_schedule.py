"""The schedule of live Q&As that trainers keep in data/qa_events.yml (QA_EVENTS_FILE).

Read by the action server (when is the next Q&A?) and by the Instagram channel (is a Q&A on
now, so a DM "for the live" goes to the hosts' board): one reading of the file for both.
Each event has ``title``, ``starts`` (date, time and UTC offset), ``where`` and optionally
``ends``. One bad entry is skipped with a warning, never hiding the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, List

import yaml

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QaEvent:
    title: str
    starts: datetime
    where: str
    ends: datetime | None = None  # when the broadcast is planned to end, if the file says


class ScheduleError(ValueError):
    """The schedule file cannot be read; the message says where and why."""


def load_schedule(path: Path) -> List[QaEvent]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScheduleError(f"{path}: cannot read the Q&A schedule: {error}") from error
    return parse_events(document, str(path))


def parse_events(document: Any, where: str = "the Q&A schedule") -> List[QaEvent]:
    entries = document.get("events") if isinstance(document, dict) else None
    events = []
    for number, entry in enumerate(entries or [], 1):
        try:
            events.append(_event(entry))
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("%s: event %d skipped: %s", where, number, error)
    return events


def _event(entry: Any) -> QaEvent:
    starts = moment(entry["starts"], "starts")
    ends = moment(entry["ends"], "ends") if entry.get("ends") else None
    if ends is not None and ends <= starts:
        raise ValueError("'ends' must be after 'starts'")
    return QaEvent(
        title=str(entry["title"]),
        starts=starts,
        where=str(entry.get("where", "Instagram")),
        ends=ends,
    )


def moment(value: Any, name: str) -> datetime:
    """A date and time with its UTC offset, from the file (YAML may already have parsed it)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(
            f"'{name}' needs a date, time and UTC offset, e.g. 2027-01-14T18:00:00+00:00"
        )
    return value
