"""schema.org JobPosting, as careers sites publish it for search engines.

Accepted containers: a JSON list of JobPosting objects, an ItemList whose itemListElement
holds them (bare or wrapped in ListItem "item"), a JSON-LD "@graph", or a single JobPosting.
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


def parse(document: Any, zone: ZoneInfo) -> Parsed:
    return collect(_postings(document), lambda item: _vacancy(item, zone), "posting", "jobposting")


def _postings(document: Any) -> List[Any]:
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and _is_a(document, "JobPosting"):
        items = [document]
    elif isinstance(document, dict) and isinstance(document.get("itemListElement"), list):
        items = [
            element["item"] if isinstance(element, dict) and "item" in element else element
            for element in document["itemListElement"]
        ]
    elif isinstance(document, dict) and isinstance(document.get("@graph"), list):
        items = [node for node in document["@graph"] if not _is_other_type(node)]
    else:
        raise FeedFormatError(
            "expected a list of schema.org JobPosting objects or an ItemList of them"
        )
    return [item for item in items if not _is_other_type(item)]


def _is_a(node: Dict[str, Any], kind: str) -> bool:
    declared = node.get("@type")
    return kind in declared if isinstance(declared, list) else declared == kind


def _is_other_type(node: Any) -> bool:
    """Organisations and the like beside the postings in a graph are not bad postings."""
    return isinstance(node, dict) and "@type" in node and not _is_a(node, "JobPosting")


def _vacancy(item: Dict[str, Any], zone: ZoneInfo) -> Vacancy:
    title = required_title(item.get("title"))
    url = safe_url(item.get("url"))
    description = item.get("description")
    places, remote = _locations(item)
    return Vacancy(
        id=_identifier(item.get("identifier")) or url or title,
        title=title,
        url=url,
        locations=places,
        category=_category(item.get("occupationalCategory")),
        description=html_to_text(description)[:MAX_DESCRIPTION_CHARS]
        if isinstance(description, str)
        else "",
        closes=optional_moment(item.get("validThrough"), zone, "validThrough"),
        posted=posted_date(item.get("datePosted"), zone),
        employment_types=employment_types(item.get("employmentType")),
        salary=_salary(item.get("baseSalary")),
        remote=remote,
    )


def _identifier(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value", value.get("name"))
    return text_field(value) if isinstance(value, (str, int)) else ""


def _category(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(text_field(v) for v in value if isinstance(v, str))
    if isinstance(value, dict):  # a CategoryCode
        return text_field(value.get("name") or value.get("codeValue"))
    return text_field(value) if isinstance(value, str) else ""


def _locations(item: Dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    remote = str(item.get("jobLocationType", "")).upper() == "TELECOMMUTE"
    places = item.get("jobLocation")
    names = [_place_name(place) for place in (places if isinstance(places, list) else [places])]
    found = unique(name for name in names if name)
    if not found and remote:
        found = ("Remote",)
    return found, remote


def _place_name(place: Any) -> str:
    if isinstance(place, str):
        return text_field(place, 100)
    if not isinstance(place, dict):
        return ""
    address = place.get("address")
    if isinstance(address, str):
        return text_field(address, 100)
    if isinstance(address, dict):
        for key in ("addressLocality", "addressRegion", "name", "addressCountry"):
            value = address.get(key)
            if isinstance(value, dict):
                value = value.get("name")
            if isinstance(value, str) and value.strip():
                return text_field(value, 100)
    return text_field(place.get("name"), 100) if isinstance(place.get("name"), str) else ""


def _salary(value: Any) -> Salary | None:
    if not isinstance(value, dict):
        return None
    currency = value.get("currency")
    quantity = value.get("value")
    if isinstance(quantity, dict):
        currency = currency or quantity.get("currency")
        low = quantity.get("minValue", quantity.get("value"))
        high = quantity.get("maxValue")
        return salary(currency, low, high, quantity.get("unitText") or value.get("unitText"))
    return salary(currency, quantity, None, value.get("unitText"))
