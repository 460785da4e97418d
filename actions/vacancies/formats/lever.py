"""The Lever Postings API: GET /v0/postings/{site}?mode=json.

The response is a bare JSON list of postings: "text" is the title, "categories" holds location,
allLocations, team, department and commitment, "hostedUrl" is the advert, "salaryRange" has
currency, interval, min and max, and "createdAt" is in milliseconds. Lever has no closing date:
a posting is open for as long as it is published.
"""

from __future__ import annotations

from typing import Any, Dict, List
from zoneinfo import ZoneInfo

from actions.vacancies.formats.common import (
    MAX_DESCRIPTION_CHARS,
    FeedFormatError,
    Parsed,
    collect,
    employment_types,
    posted_date,
    required_title,
    safe_url,
    salary,
    text_field,
    unique,
)
from actions.vacancies.model import Salary, Vacancy
from actions.vacancies.text import html_to_text

INTERVALS = {
    "per-year-salary": "year",
    "per-month-salary": "month",
    "per-week-salary": "week",
    "per-day-wage": "day",
    "per-hour-wage": "hour",
}


def parse(document: Any, zone: ZoneInfo) -> Parsed:
    if isinstance(document, dict) and document.get("ok") is False:
        raise FeedFormatError(f"Lever said: {text_field(document.get('error'))}")
    if not isinstance(document, list):
        raise FeedFormatError("expected a Lever postings list: [...]")
    return collect(document, lambda posting: _vacancy(posting, zone), "posting", "lever")


def _vacancy(posting: Dict[str, Any], zone: ZoneInfo) -> Vacancy:
    title = required_title(posting.get("text"))
    url = safe_url(posting.get("hostedUrl")) or safe_url(posting.get("applyUrl"))
    categories = posting.get("categories")
    categories = categories if isinstance(categories, dict) else {}
    created = posting.get("createdAt")
    return Vacancy(
        id=text_field(posting.get("id")) or url or title,
        title=title,
        url=url,
        locations=_locations(categories),
        category=text_field(categories.get("department") or categories.get("team")),
        description=_description(posting)[:MAX_DESCRIPTION_CHARS],
        closes=None,
        posted=posted_date(created / 1000 if isinstance(created, (int, float)) else None, zone),
        employment_types=employment_types(categories.get("commitment")),
        salary=_salary(posting.get("salaryRange")),
        remote=str(posting.get("workplaceType", "")).lower() == "remote",
    )


def _locations(categories: Dict[str, Any]) -> tuple[str, ...]:
    every = categories.get("allLocations")
    names: List[Any] = every if isinstance(every, list) and every else [categories.get("location")]
    return unique(text_field(name, 100) for name in names if isinstance(name, str))


def _description(posting: Dict[str, Any]) -> str:
    plain = posting.get("descriptionPlain")
    if isinstance(plain, str) and plain.strip():
        return html_to_text(plain)  # "plain" text has been seen with tags in it
    markup = posting.get("description")
    return html_to_text(markup) if isinstance(markup, str) else ""


def _salary(value: Any) -> Salary | None:
    if not isinstance(value, dict):
        return None
    period = INTERVALS.get(str(value.get("interval", "")).lower())
    if period is None:
        return None
    return salary(value.get("currency"), value.get("min"), value.get("max"), period)
