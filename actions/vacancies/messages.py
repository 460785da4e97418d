"""What the applicant reads: Instagram-sized messages about vacancies.

Every message is plain text of at most 1,000 bytes of UTF-8 with at most 13 quick replies of at
most 20 characters (Instagram's limits). A page shows up to three vacancies, fewer when three
would not fit, so a long title or link never pushes a message over the limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Sequence
from zoneinfo import ZoneInfo

from actions.vacancies.matching import Query
from actions.vacancies.model import Salary, Vacancy
from actions.vacancies.text import first_sentence
from actions.vacancies.vocabulary import REMOTE, Vocabulary

MAX_MESSAGE_BYTES = 1000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
PAGE_SIZE = 3
SOON_DAYS = 14

SEARCH_INTENT = "search_vacancies"
MORE_INTENT = "more_vacancies"
SHOW_MORE = {"title": "Show more", "payload": f"/{MORE_INTENT}"}
ROLES_OVERVIEW = {"title": "Types of jobs", "payload": "faq/roles_overview"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
PERIOD_WORDS = {"year": "a year", "month": "a month", "week": "a week", "day": "a day",
                "hour": "an hour"}  # fmt: skip
STALE_NOTE = "This list may be out of date: I couldn't check the careers site for changes just now."


@dataclass
class Message:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


@dataclass
class Page:
    message: Message
    shown: int  # how many vacancies this page showed


def search_payload(**entities: str) -> str:
    """A quick reply that runs the search with these entities ('/search_vacancies{...}')."""
    values = {name: value for name, value in entities.items() if value}
    if not values:
        return f"/{SEARCH_INTENT}"
    return f"/{SEARCH_INTENT}{json.dumps(values, separators=(',', ':'), ensure_ascii=False)}"


def ask_job_family(vocabulary: Vocabulary) -> Message:
    buttons = [
        {"title": term.label, "payload": search_payload(job_family=term.id)}
        for term in vocabulary.families.terms.values()
    ]
    buttons.append({"title": "Anything", "payload": search_payload(job_family="any")})
    return Message(
        "What kind of role are you interested in? Pick one, or choose Anything to see all "
        "current vacancies.",
        buttons[:MAX_QUICK_REPLIES],
    )


def results_page(
    matches: Sequence[Vacancy],
    offset: int,
    query: Query,
    vocabulary: Vocabulary,
    *,
    now: datetime,
    zone: ZoneInfo,
    careers_url: str,
    stale: bool,
) -> Page:
    """The page of matches starting at `offset`; as many (up to 3) as fit in one message."""
    remaining = list(matches[offset : offset + PAGE_SIZE])
    total = len(matches)
    for count in range(len(remaining), 0, -1):
        for with_summary in (True, False):
            blocks = [
                vacancy_text(v, offset + i + 1, now, zone, careers_url, with_summary)
                for i, v in enumerate(remaining[:count])
            ]
            heading = _heading(query, vocabulary, offset, count, total)
            text = "\n\n".join(([STALE_NOTE] if stale else []) + [heading, *blocks])
            if len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES:
                more = offset + count < total
                buttons = ([SHOW_MORE] if more else []) + _refine_buttons(query, vocabulary)
                return Page(Message(text, buttons[:MAX_QUICK_REPLIES]), count)
    # Unreachable with the caps in vacancy_text, but never send more than Instagram takes.
    block = vacancy_text(remaining[0], offset + 1, now, zone, careers_url, False)
    return Page(Message(fit_bytes(block, MAX_MESSAGE_BYTES)), 1)


def no_matches(query: Query, vocabulary: Vocabulary, careers_url: str, stale: bool) -> Message:
    if query.narrowed:
        text = (
            f"I couldn't find any open {describe(query, vocabulary, 2)} right now. You could "
            "widen your search, or sign up for job alerts on the careers site to hear when new "
            f"roles are advertised: {careers_url}"
        )
    else:
        text = (
            "There are no vacancies open right now. New roles are advertised on the careers "
            f"site, where you can also sign up for job alerts: {careers_url}"
        )
    if stale:
        text = f"{STALE_NOTE}\n\n{text}"
    buttons = _broaden_buttons(query) or [ROLES_OVERVIEW]
    return Message(fit_bytes(text, MAX_MESSAGE_BYTES), buttons)


def end_of_list(query: Query, vocabulary: Vocabulary, total: int, careers_url: str) -> Message:
    noun = describe(query, vocabulary, total)
    seen = (
        f"that was the only open {noun}" if total == 1 else f"you've seen all {total} open {noun}"
    )
    text = (
        f"That's everything: {seen}. New roles are advertised on the careers site, where you "
        f"can sign up for job alerts: {careers_url}"
    )
    return Message(fit_bytes(text, MAX_MESSAGE_BYTES), _refine_buttons(query, vocabulary))


def unavailable(query: Query, careers_url: str) -> Message:
    text = (
        "Sorry, I can't get the list of current vacancies right now. You can see every open "
        f"role, with closing dates and how to apply, on the careers site: {careers_url}"
    )
    retry = {"title": "Try again", "payload": _same_search(query)}
    return Message(text, [retry, ROLES_OVERVIEW])


def describe(query: Query, vocabulary: Vocabulary, count: int) -> str:
    """ "technology vacancies in Manchester matching "part time"" (singular for one)."""
    family = vocabulary.families.label(query.family).lower() + " " if query.family else ""
    parts = [f"{family}{'vacancy' if count == 1 else 'vacancies'}"]
    if query.place == REMOTE:
        parts.append("that can be done remotely")
    elif query.place:
        parts.append(f"in {query.place_label}")
    if query.keyword:
        parts.append(f'matching "{query.keyword}"')
    return " ".join(parts)


def vacancy_text(
    vacancy: Vacancy,
    number: int,
    now: datetime,
    zone: ZoneInfo,
    careers_url: str,
    with_summary: bool = True,
) -> str:
    lines = [fit_bytes(f"{number}. {vacancy.title}", 160)]
    details = [_places(vacancy.locations)] if vacancy.locations else []
    if vacancy.salary:
        details.append(salary_text(vacancy.salary))
    if vacancy.employment_types:
        details.append(" or ".join(vacancy.employment_types).capitalize())
    if details:
        lines.append(fit_bytes(" · ".join(details), 160))
    lines.append(closing_text(vacancy.closes, now, zone))
    if with_summary and vacancy.description:
        lines.append(fit_bytes(first_sentence(vacancy.description, 140), 160))
    lines.append(f"Apply: {vacancy.url or careers_url}")
    return "\n".join(lines)


def closing_text(closes: datetime | None, now: datetime, zone: ZoneInfo) -> str:
    if closes is None:
        return "Closing date: see the advert"
    local = closes.astimezone(zone)
    text = f"Closes {uk_date(local)}"
    days = (local.date() - now.astimezone(zone).date()).days
    if days <= 0:
        return f"{text} (today)"
    if days == 1:
        return f"{text} (tomorrow)"
    if days < SOON_DAYS:
        return f"{text} (in {days} days)"
    return text


def uk_date(moment: datetime) -> str:
    """12 December 2026"""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def salary_text(salary: Salary) -> str:
    symbol = CURRENCY_SYMBOLS[salary.currency]
    period = PERIOD_WORDS[salary.period]

    def money(value: float) -> str:
        return f"{symbol}{value:,.0f}" if value == int(value) else f"{symbol}{value:,.2f}"

    if salary.minimum is not None and salary.maximum is not None:
        if salary.minimum == salary.maximum:
            return f"{money(salary.minimum)} {period}"
        return f"{money(salary.minimum)} to {money(salary.maximum)} {period}"
    if salary.minimum is not None:
        return f"From {money(salary.minimum)} {period}"
    assert salary.maximum is not None
    return f"Up to {money(salary.maximum)} {period}"


def fit_bytes(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut at a word where possible, with an ellipsis."""
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[: limit - len("…".encode())].decode("utf-8", errors="ignore")
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-·") + "…"


def _places(locations: Sequence[str]) -> str:
    if len(locations) <= 3:
        return ", ".join(locations)
    return f"{', '.join(locations[:2])} and {len(locations) - 2} more places"


def _heading(query: Query, vocabulary: Vocabulary, offset: int, count: int, total: int) -> str:
    noun = describe(query, vocabulary, total)
    if total == 1:
        return f"There is 1 open {noun} right now:"
    if offset == 0 and count == total:
        return f"There are {total} open {noun} right now, soonest closing first:"
    first, last = offset + 1, offset + count
    span = f"{first}" if first == last else f"{first} to {last}"
    if offset == 0:
        return f"There are {total} open {noun}. Here are {span}, soonest closing first:"
    return f"More open {noun} ({span} of {total}):"


def _refine_buttons(query: Query, vocabulary: Vocabulary) -> List[Dict[str, str]]:
    buttons = _broaden_buttons(query)
    if not query.family:
        buttons += [
            {"title": term.label, "payload": search_payload(job_family=term.id)}
            for term in vocabulary.families.terms.values()
        ]
    return buttons


def _broaden_buttons(query: Query) -> List[Dict[str, str]]:
    buttons = []
    if query.place:
        buttons.append({"title": "Any location", "payload": search_payload(location="anywhere")})
    if query.family:
        buttons.append({"title": "Any job type", "payload": search_payload(job_family="any")})
    if query.keyword:
        buttons.append({"title": "Any keyword", "payload": search_payload(keyword="any")})
    return buttons


def _same_search(query: Query) -> str:
    return search_payload(
        job_family=query.family or "any",
        location=query.place_label if query.place else "",
        keyword=query.keyword,
    )
