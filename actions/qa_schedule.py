"""Which scheduled live Q&As to tell an applicant about (the schedule: contracts/qa_schedule.py)."""

from __future__ import annotations

from datetime import datetime
from typing import List

from contracts.qa_schedule import QaEvent, ScheduleError, load_schedule

__all__ = ["QaEvent", "ScheduleError", "load_schedule", "upcoming"]


def upcoming(events: List[QaEvent], now: datetime, limit: int = 3) -> List[QaEvent]:
    return sorted((event for event in events if event.starts > now), key=lambda e: e.starts)[:limit]
