"""One internal record for a vacancy, whatever feed format it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Tuple


@dataclass(frozen=True)
class Salary:
    currency: str  # ISO 4217 code the formatter knows how to write
    minimum: float | None
    maximum: float | None
    period: str  # "year", "month", "week", "day" or "hour"


@dataclass(frozen=True)
class Vacancy:
    """A posting as the feed describes it; text fields are plain text, never HTML."""

    id: str
    title: str
    url: str | None  # the advert with its apply button; None when the feed gave no usable link
    locations: Tuple[str, ...]  # as the feed writes them
    category: str  # the feed's own job family or department name, "" if none
    description: str
    closes: datetime | None  # timezone-aware; None when the feed gives no closing date
    posted: date | None = None
    employment_types: Tuple[str, ...] = ()  # "full time", "part time", "fixed term", ...
    salary: Salary | None = None
    remote: bool = False
