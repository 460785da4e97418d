"""Feed formats: each adapter maps its format's postings to Vacancy records."""

from __future__ import annotations

import json
from typing import Dict
from zoneinfo import ZoneInfo

from actions.vacancies.formats import greenhouse, jobposting, lever
from actions.vacancies.formats.common import Adapter, FeedFormatError, Parsed

ADAPTERS: Dict[str, Adapter] = {
    "jobposting": jobposting.parse,
    "greenhouse": greenhouse.parse,
    "lever": lever.parse,
}

__all__ = ["ADAPTERS", "FeedFormatError", "Parsed", "parse_feed"]


def parse_feed(feed_format: str, body: bytes, zone: ZoneInfo) -> Parsed:
    """Vacancies from a feed's raw bytes; FeedFormatError when the body is not that feed."""
    if not body.strip():
        raise FeedFormatError("the feed is empty")
    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        raise FeedFormatError("the feed is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        start = body.lstrip()[:15].lower()
        if start.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
            raise FeedFormatError("the feed sent HTML or XML, not JSON") from None
        raise FeedFormatError(
            f"the feed is not valid JSON: {error.msg} at line {error.lineno}"
        ) from None
    except RecursionError:
        raise FeedFormatError("the feed's JSON is nested too deeply") from None
    parsed = ADAPTERS[feed_format](document, zone)
    if parsed.skipped and not parsed.vacancies:
        raise FeedFormatError(
            f"none of the {len(parsed.skipped)} postings could be read as {feed_format} "
            f"(e.g. {parsed.skipped[0]}): is VACANCIES_FORMAT right?"
        )
    return parsed
