"""Stand-ins for the careers site's job feed, and a conversation with the vacancy action.

FeedServer is a real HTTP server on 127.0.0.1 speaking each feed's documented wire format, with
faults that can be queued per request. The builders turn a few plain records into a schema.org
JobPosting list, a Greenhouse job board or a Lever postings list, so every format is tested on
the same vacancies.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, List, Sequence, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import VacancySettings
from actions.vacancies.action import ActionSearchVacancies
from scripts.stack import free_port

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
ADVERTS = "https://www.mi5.gov.uk/careers/jobs/"
MAX_MESSAGE_BYTES = 1000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20
MARKUP = re.compile(r"<[A-Za-z/!?]|&[a-z]+;|&#")


@dataclass
class Reply:
    """One scripted answer from the feed server."""

    status: int = 200
    body: bytes | None = None  # None: the server's current feed
    headers: Dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class FeedServer:
    """A job feed on 127.0.0.1. Queue Replies to script faults; otherwise it serves `body`."""

    def __init__(self, body: bytes = b"[]", path: str = "/feed", etag: bool = True) -> None:
        self.body = body
        self.path = path
        self.etag = etag
        self.content_type = "application/json; charset=utf-8"
        self.script: Deque[Reply] = deque()
        self.requests: List[Dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.path}"

    def serve(self, document: Any) -> None:
        self.body = json.dumps(document).encode("utf-8")

    def then(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def hits(self) -> int:
        return len(self.requests)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(dict(self.headers.items()))
                    reply = server.script.popleft() if server.script else Reply()
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = server.body if reply.body is None else reply.body
                tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
                status = reply.status
                if (
                    status == 200
                    and server.etag
                    and reply.body is None
                    and self.headers.get("If-None-Match") == tag
                ):
                    status, body = 304, b""
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", server.content_type)
                    if server.etag and reply.body is None:
                        self.send_header("ETag", tag)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, which is what some tests check

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


def refused_url() -> str:
    """An address where nothing listens: connecting is refused."""
    return f"http://127.0.0.1:{free_port()}/feed"


# The same vacancies in every format.


@dataclass(frozen=True)
class Record:
    ref: str
    title: str
    family: str  # as the feed names it: "Technology", "Corporate", ...
    places: Tuple[str, ...]
    closes: str | None  # ISO date or date-time
    salary: Tuple[Any, Any, str] | None = (40000, 50000, "GBP")
    types: Tuple[str, ...] = ("FULL_TIME",)
    description: str = "<p>Do important work.</p>"


TECH_IN_MANCHESTER = [
    Record("1", "Cloud Platform Engineer", "Technology", ("Greater Manchester",), "2027-03-19"),
    Record("2", "Software Engineer", "Technology", ("Manchester",), "2026-12-04",
           description="<p>Build <strong>secure</strong> software &amp; data pipelines.</p>"
                       "<script>alert('x')</script>"),
    Record("3", "Data Scientist", "Technology", ("Manchester",), "2026-11-25"),  # closed
    Record("4", "Network Engineer", "Technology", ("Manchester",), "2027-05-28"),
    Record("5", "Apprentice Technician", "Technology", ("Multiple locations",), "2027-10-15"),
    Record("6", "HR Adviser", "Corporate", ("Manchester",), "2027-01-20"),
    Record("7", "Cyber Analyst", "Technology", ("London",), "2027-01-10"),
]  # fmt: skip
# Open technology vacancies for Manchester, soonest closing first.
EXPECTED_TECH_IN_MANCHESTER = [
    "Software Engineer",
    "Cloud Platform Engineer",
    "Network Engineer",
    "Apprentice Technician",
]


def jobposting_feed(records: Sequence[Record]) -> Dict[str, Any]:
    def place(name: str) -> Dict[str, Any]:
        return {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressLocality": name, "addressCountry": "GB"},
        }

    def posting(record: Record) -> Dict[str, Any]:
        item: Dict[str, Any] = {
            "@context": "https://schema.org/",
            "@type": "JobPosting",
            "title": record.title,
            "identifier": {"@type": "PropertyValue", "name": "MI5", "value": record.ref},
            "description": record.description,
            "datePosted": "2026-11-01",
            "employmentType": list(record.types),
            "jobLocation": [place(p) for p in record.places],
            "occupationalCategory": record.family,
            "url": f"https://www.mi5.gov.uk/careers/jobs/{record.ref}",
        }
        if record.closes:
            item["validThrough"] = record.closes
        if record.salary:
            low, high, currency = record.salary
            item["baseSalary"] = {
                "@type": "MonetaryAmount",
                "currency": currency,
                "value": {"minValue": low, "maxValue": high, "unitText": "YEAR"},
            }
        return item

    return {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "item": posting(r)}
            for n, r in enumerate(records, 1)
        ],
    }


def greenhouse_feed(records: Sequence[Record]) -> Dict[str, Any]:
    def job(number: int, record: Record) -> Dict[str, Any]:
        metadata: List[Dict[str, Any]] = [
            {"id": 1, "name": "Employment type", "value": record.types[0].replace("_", "-").title(),
             "value_type": "single_select"},
        ]  # fmt: skip
        if record.closes:
            metadata.append(
                {"id": 2, "name": "Closing date", "value": record.closes, "value_type": "date"}
            )
        item: Dict[str, Any] = {
            "id": 4000 + number,
            "internal_job_id": 9000 + number,
            "title": record.title,
            "updated_at": "2026-11-20T10:00:00-05:00",
            "first_published": "2026-11-01T09:00:00-05:00",
            "requisition_id": record.ref,
            "location": {"name": "; ".join(record.places)},
            "absolute_url": f"{ADVERTS}{record.ref}?gh_jid={4000 + number}",
            "language": "en",
            "metadata": metadata,
            # Greenhouse sends content as entity-escaped HTML.
            "content": html.escape(record.description),
            "departments": [{"id": 10, "name": record.family, "child_ids": [], "parent_id": None}],
            "offices": [{"id": 20 + n, "name": p} for n, p in enumerate(record.places)],
        }  # fmt: skip
        if record.salary:
            low, high, currency = record.salary
            item["pay_input_ranges"] = [
                {"min_cents": low * 100 if isinstance(low, int) else low,
                 "max_cents": high * 100 if isinstance(high, int) else high,
                 "currency_type": currency, "title": "Salary", "blurb": ""}
            ]  # fmt: skip
        return item

    jobs = [job(n, r) for n, r in enumerate(records, 1)]
    return {"jobs": jobs, "meta": {"total": len(jobs)}}


def lever_feed(records: Sequence[Record]) -> List[Dict[str, Any]]:
    commitments = {"FULL_TIME": "Full-time", "PART_TIME": "Part-time", "INTERN": "Intern"}

    def posting(record: Record) -> Dict[str, Any]:
        item: Dict[str, Any] = {
            "id": f"0000-{record.ref}",
            "text": record.title,
            "categories": {
                "location": record.places[0],
                "allLocations": list(record.places),
                "team": record.family,
                "department": record.family,
                "commitment": commitments.get(record.types[0], "Full-time"),
            },
            "country": "GB",
            "createdAt": 1_793_000_000_000,
            "description": record.description,
            "descriptionPlain": record.description,  # Lever has been seen to leave tags in
            "lists": [],
            "additional": "",
            "hostedUrl": f"https://www.mi5.gov.uk/careers/jobs/{record.ref}",
            "applyUrl": f"https://www.mi5.gov.uk/careers/jobs/{record.ref}/apply",
            "workplaceType": "on-site",
        }
        if record.salary:
            low, high, currency = record.salary
            item["salaryRange"] = {
                "currency": currency, "interval": "per-year-salary", "min": low, "max": high,
            }  # fmt: skip
        return item

    return [posting(r) for r in records]


FEEDS = {"jobposting": jobposting_feed, "greenhouse": greenhouse_feed, "lever": lever_feed}


def many_postings(count: int) -> List[Record]:
    """A big feed: every family and place, closing dates spread over a year."""
    families = ["Technology", "Intelligence", "Analysis", "Languages", "Surveillance",
                "Corporate", "Early careers"]  # fmt: skip
    places = ["London", "Greater Manchester", "Cheltenham", "Belfast", "Multiple locations"]
    return [
        Record(
            ref=str(10_000 + n),
            title=f"{families[n % 7]} Officer {n}",
            family=families[n % 7],
            places=(places[n % 5],),
            closes=f"2027-{1 + n % 12:02d}-{1 + n % 28:02d}",
            description=f"<p>Posting number {n}. <b>Work</b> that matters &amp; more.</p>" * 3,
        )
        for n in range(count)
    ]


# A conversation with the real action.


def settings_for(
    url: str, feed_format: str = "jobposting", timeout_s: float = 2.0, ttl_s: float = 60.0
) -> VacancySettings:
    return VacancySettings(url=url, format=feed_format, timeout_s=timeout_s, cache_ttl_s=ttl_s)


class Conversation:
    """Slots carried from turn to turn as Rasa would: entities fill them, the action's events
    update them."""

    def __init__(self, settings: VacancySettings, domain: Dict[str, Any], now: datetime = NOW):
        self.action = ActionSearchVacancies(settings, clock=lambda: now)
        self.domain = domain
        self.slots: Dict[str, Any] = {}

    async def say(self, intent: str = "search_vacancies", **entities: str) -> List[Dict[str, Any]]:
        self.slots.update(entities)
        latest = {
            "intent": {"name": intent, "confidence": 0.95},
            "entities": [{"entity": name, "value": value} for name, value in entities.items()],
            "text": intent,
        }
        tracker = Tracker(
            sender_id="applicant",
            slots=dict(self.slots),
            latest_message=latest,
            events=[{"event": "user", "text": intent, "parse_data": latest}],
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )
        dispatcher = CollectingDispatcher()
        events = await self.action.run(dispatcher, tracker, self.domain)
        for event in events:
            assert event["event"] == "slot"
            self.slots[event["name"]] = event["value"]
        for message in dispatcher.messages:
            assert_fits_instagram(message)
        return dispatcher.messages


def assert_fits_instagram(message: Dict[str, Any]) -> None:
    text = message.get("text") or ""
    assert text, "every message has text"
    assert len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES, f"{len(text.encode())} bytes"
    assert not MARKUP.search(text), f"markup sent: {text!r}"
    buttons = message.get("buttons") or []
    assert len(buttons) <= MAX_QUICK_REPLIES
    for button in buttons:
        assert 0 < len(button["title"]) <= MAX_TITLE_CHARS, button
        payload = button["payload"]
        assert payload.startswith(("/search_vacancies", "/more_vacancies", "faq/")), payload
        if "{" in payload:
            json.loads(payload[payload.index("{") :])


def only_text(messages: List[Dict[str, Any]]) -> str:
    assert len(messages) == 1, messages
    return str(messages[0]["text"])


def titles_in(text: str) -> List[str]:
    """The vacancy titles in a results message, in order ("1. Title")."""
    titles = []
    for line in text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit():
            titles.append(rest)
    return titles


def button_titles(messages: List[Dict[str, Any]]) -> List[str]:
    return [button["title"] for message in messages for button in message.get("buttons") or []]
