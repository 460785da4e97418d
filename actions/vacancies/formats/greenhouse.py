"""The Greenhouse Job Board API: GET /v1/boards/{board_token}/jobs?content=true.

The response is {"jobs": [...], "meta": {"total": n}}. With content=true each job carries its
description as entity-escaped HTML ("&lt;p&gt;..."), its departments and its offices. Greenhouse
has no closing-date or employment-type field: boards that publish them do so as custom fields
("metadata"), which are read here by name. Pay comes from pay_input_ranges (pay_transparency=true)
or a currency_range custom field.
"""

from __future__ import annotations

import html
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

from actions.vacancies.formats.common import (
    MAX_DESCRIPTION_CHARS,
    FeedFormatError,
    Parsed,
    collect,
    employment_types,
    optional_moment,
    posted_date,
    required_title,
    safe_url,
    salary,
    text_field,
    unique,
)
from actions.vacancies.model import Salary, Vacancy
from actions.vacancies.text import html_to_text

CLOSING_FIELDS = ("closing date", "closes", "application deadline", "deadline", "valid through")
EMPLOYMENT_FIELDS = ("employment type", "contract type", "working pattern", "job type")
FAMILY_FIELDS = ("job family", "job category", "category")


def parse(document: Any, zone: ZoneInfo) -> Parsed:
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise FeedFormatError('expected a Greenhouse job board: {"jobs": [...]}')
    return collect(document["jobs"], lambda job: _vacancy(job, zone), "job", "greenhouse")


def _vacancy(job: Dict[str, Any], zone: ZoneInfo) -> Vacancy:
    title = required_title(job.get("title"))
    url = safe_url(job.get("absolute_url"))
    fields = _metadata(job.get("metadata"))
    location = job.get("location")
    location_name = text_field(location.get("name"), 100) if isinstance(location, dict) else ""
    offices = [text_field(office.get("name"), 100) for office in _objects(job.get("offices"))]
    departments = [text_field(d.get("name")) for d in _objects(job.get("departments"))]
    family = _first(fields, FAMILY_FIELDS)
    content = job.get("content")
    return Vacancy(
        id=text_field(job.get("id")) or url or title,
        title=title,
        url=url,
        locations=unique([location_name] if location_name else offices),
        category=text_field(family) if isinstance(family, str) else ", ".join(unique(departments)),
        # Greenhouse escapes the HTML once more than usual: unescape, then strip the tags.
        description=html_to_text(html.unescape(content))[:MAX_DESCRIPTION_CHARS]
        if isinstance(content, str)
        else "",
        closes=optional_moment(_first(fields, CLOSING_FIELDS), zone, "closing date"),
        posted=posted_date(job.get("first_published") or job.get("updated_at"), zone),
        employment_types=employment_types(_first(fields, EMPLOYMENT_FIELDS)),
        salary=_salary(job, fields),
        remote="remote" in location_name.lower(),
    )


def _objects(value: Any) -> Iterator[Dict[str, Any]]:
    return (item for item in (value if isinstance(value, list) else []) if isinstance(item, dict))


def _metadata(value: Any) -> Dict[str, Any]:
    """Custom fields by lower-cased name."""
    return {
        str(item.get("name", "")).strip().lower(): item.get("value")
        for item in _objects(value)
        if item.get("value") not in (None, "", [])
    }


def _first(fields: Dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in fields:
            return fields[name]
    return None


def _salary(job: Dict[str, Any], fields: Dict[str, Any]) -> Salary | None:
    ranges: List[Dict[str, Any]] = list(_objects(job.get("pay_input_ranges")))
    if ranges:
        pay = ranges[0]
        return salary(
            pay.get("currency_type"),
            _from_cents(pay.get("min_cents")),
            _from_cents(pay.get("max_cents")),
            "year",
        )
    for value in fields.values():
        if isinstance(value, dict) and "unit" in value and "min_value" in value:
            return salary(value.get("unit"), value.get("min_value"), value.get("max_value"), "year")
    return None


def _from_cents(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value / 100
