"""The schedule of live Q&As that trainers keep in data/qa_events.yml."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import List

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QaEvent:
    title: str
    starts: datetime
    where: str


class ScheduleError(ValueError):
    """The schedule file cannot be read; the message says where and why."""


def load_schedule(path: Path) -> List[QaEvent]:
    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError) as error:
        raise ScheduleError(f"{path}: cannot read the Q&A schedule: {error}") from error
    events = []
    for number, entry in enumerate(document.get("events") or [], 1):
        try:
            events.append(_event(entry))
        except (KeyError, TypeError, ValueError) as error:
            # One bad entry must not hide the others.
            logger.warning("%s: event %d skipped: %s", path, number, error)
    return events


def _event(entry: dict) -> QaEvent:
    starts = entry["starts"]
    if isinstance(starts, str):
        starts = datetime.fromisoformat(starts)
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        raise ValueError(
            "'starts' needs a date, time and UTC offset, e.g. 2027-01-14T18:00:00+00:00"
        )
    return QaEvent(
        title=str(entry["title"]), starts=starts, where=str(entry.get("where", "Instagram"))
    )


def upcoming(events: List[QaEvent], now: datetime, limit: int = 3) -> List[QaEvent]:
    return sorted((event for event in events if event.starts > now), key=lambda e: e.starts)[:limit]
