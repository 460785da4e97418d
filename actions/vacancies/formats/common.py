"""What every feed adapter needs: dates, money, links and the shape of a parse result."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterable, List, Tuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from actions.vacancies.model import Salary, Vacancy
from actions.vacancies.text import one_line

logger = logging.getLogger(__name__)

# Currencies we can write for an applicant. A salary in any other currency is left out rather
# than shown with a guessed symbol: most likely the feed has a mistake in it.
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
PERIODS = {
    "year": "year", "yearly": "year", "annual": "year", "annum": "year", "annually": "year",
    "month": "month", "monthly": "month",
    "week": "week", "weekly": "week",
    "day": "day", "daily": "day",
    "hour": "hour", "hourly": "hour",
}  # fmt: skip
EMPLOYMENT_TYPES = {
    "full_time": "full time", "fulltime": "full time", "full time": "full time",
    "permanent": "full time",
    "part_time": "part time", "parttime": "part time", "part time": "part time",
    "job share": "job share", "job_share": "job share",
    "temporary": "fixed term", "fixed term": "fixed term", "fixed_term": "fixed term",
    "contractor": "contract", "contract": "contract",
    "intern": "internship", "internship": "internship",
    "apprenticeship": "apprenticeship", "apprentice": "apprenticeship",
}  # fmt: skip
MAX_URL_CHARS = 300
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000
MONEY = re.compile(r"^[£$€]?\s*(\d[\d,]*(?:\.\d+)?)\s*(k)?$", re.IGNORECASE)


class FeedFormatError(ValueError):
    """The document is not the configured feed format at all (not one bad posting)."""


@dataclass
class Parsed:
    vacancies: List[Vacancy] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)  # why each bad posting was left out


Adapter = Callable[[Any, ZoneInfo], Parsed]


def collect(
    items: Iterable[Any], build: Callable[[Any], Vacancy], kind: str, source: str
) -> Parsed:
    """Build each posting on its own, so one bad posting never hides the others."""
    parsed = Parsed()
    for number, item in enumerate(items, 1):
        try:
            if not isinstance(item, dict):
                raise ValueError(f"is a {type(item).__name__}, not an object")
            parsed.vacancies.append(build(item))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            parsed.skipped.append(f"{kind} {number}: {error}")
    if parsed.skipped:
        logger.warning(
            "%s: %d of %d postings skipped, e.g. %s",
            source,
            len(parsed.skipped),
            len(parsed.skipped) + len(parsed.vacancies),
            "; ".join(parsed.skipped[:3]),
        )
    return parsed


def text_field(value: Any, limit: int = MAX_TITLE_CHARS) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return one_line(value)[:limit].strip()


def required_title(value: Any) -> str:
    title = text_field(value)
    if not title:
        raise ValueError("has no title")
    return title


def safe_url(value: Any) -> str | None:
    """An http(s) link we can send, or None (no javascript:, no spaces, nothing huge)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if len(url) > MAX_URL_CHARS or any(ch.isspace() or ch in '<>"' for ch in url):
        return None
    return url


def parse_moment(value: Any, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time. A bare date means the end of that day, UK time."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a date")
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59), zone)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{1,6})\d*", r"\1", text)  # Python 3.10 takes at most 6 digits
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def optional_moment(value: Any, zone: ZoneInfo, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_moment(value, zone)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{name} {value!r} is not a date") from None


def posted_date(value: Any, zone: ZoneInfo) -> date | None:
    """When it was posted only orders nothing, so a bad one is dropped, not the posting."""
    try:
        return parse_moment(value, zone).astimezone(zone).date() if value else None
    except (ValueError, OverflowError, OSError):
        return None


def amount(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = MONEY.match(value.strip())
        if not match:
            return None
        number = float(match.group(1).replace(",", "")) * (1000 if match.group(2) else 1)
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None


def salary(currency: Any, low: Any, high: Any, period: Any) -> Salary | None:
    """A salary we can state truthfully, or None: unknown currency or nonsense amounts."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if code not in CURRENCY_SYMBOLS:
        return None
    minimum, maximum = amount(low), amount(high)
    if minimum is None and maximum is None:
        return None
    if minimum is not None and maximum is not None and minimum > maximum:
        return None
    unit = PERIODS.get(str(period or "year").strip().lower())
    if unit is None:
        return None
    return Salary(currency=code, minimum=minimum, maximum=maximum, period=unit)


def employment_types(value: Any) -> Tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    found: List[str] = []
    for item in values:
        if not isinstance(item, str):
            continue
        key = item.strip().lower().replace("-", " ")
        label = EMPLOYMENT_TYPES.get(key) or EMPLOYMENT_TYPES.get(key.replace(" ", "_"))
        if label is None and key:
            label = key if len(key) <= 30 else None
        if label and label not in found:
            found.append(label)
    return tuple(found)


def unique(values: Iterable[str]) -> Tuple[str, ...]:
    seen: List[str] = []
    for value in values:
        if value and value.lower() not in (s.lower() for s in seen):
            seen.append(value)
    return tuple(seen)
