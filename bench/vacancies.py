"""Vacancy search: action latency on a warm cache, and how long a cold fetch can take.

Runs the real action against a local HTTP server serving a 5,000-posting schema.org JobPosting
feed, in this process (the action's own time, without the Rasa round trip that bench/load.py
measures). The cold fetch is measured against the same feed and against a server that never
answers in time, which must be cut off at VACANCIES_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.settings import VacancySettings
from actions.vacancies.action import ActionSearchVacancies
from actions.vacancies.service import forget_clients

POSTINGS = 5_000
WARM_SEARCHES = 500
COLD_RUNS = 3
SLOW_RUNS = 2
TARGET_P95_MS = 20.0
FAMILIES = ["Technology", "Intelligence", "Analysis", "Languages", "Surveillance", "Corporate",
            "Early careers"]  # fmt: skip
PLACES = ["London", "Greater Manchester", "Cheltenham", "Belfast", "Multiple locations"]
# What applicants ask: (intent, entities). Paging reuses the slots of the search before it.
QUERIES: List[Tuple[str, Dict[str, str]]] = [
    ("search_vacancies", {"job_family": "tech", "location": "manc"}),
    ("more_vacancies", {}),
    ("search_vacancies", {"job_family": "any"}),
    ("search_vacancies", {"location": "London"}),
    ("search_vacancies", {"keyword": "part time"}),
    ("search_vacancies", {"job_family": "languages", "location": "Belfast"}),
    ("more_vacancies", {}),
    ("search_vacancies", {"keyword": "officer 42"}),
    ("search_vacancies", {"location": "Glasgow"}),
]


def feed(count: int, now: datetime) -> bytes:
    postings = []
    for n in range(count):
        closes = now + timedelta(days=1 + n % 365, hours=n % 24)
        postings.append(
            {
                "@context": "https://schema.org/",
                "@type": "JobPosting",
                "title": f"{FAMILIES[n % 7]} Officer {n}",
                "identifier": {"@type": "PropertyValue", "name": "MI5", "value": str(n)},
                "description": f"<p>Posting {n}: <strong>work that matters</strong> &amp; a "
                "team that has your back.</p><ul><li>Training</li><li>Flexible hours</li></ul>",
                "datePosted": "2026-11-01",
                "validThrough": closes.isoformat(),
                "employmentType": "PART_TIME" if n % 5 == 0 else "FULL_TIME",
                "jobLocation": {
                    "@type": "Place",
                    "address": {"addressLocality": PLACES[n % 5], "addressCountry": "GB"},
                },
                "baseSalary": {
                    "@type": "MonetaryAmount",
                    "currency": "GBP",
                    "value": {
                        "minValue": 30000 + n % 20 * 1000,
                        "maxValue": 45000,
                        "unitText": "YEAR",
                    },
                },
                "occupationalCategory": FAMILIES[n % 7],
                "url": f"https://www.mi5.gov.uk/careers/jobs/{n}",
            }
        )
    return json.dumps({"@type": "ItemList", "itemListElement": postings}).encode()


class _FeedServer:
    """GET /feed answers at once; GET /slow only after `slow_s` seconds."""

    def __init__(self, body: bytes, slow_s: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow":
                    time.sleep(slow_s)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Applicant:
    def __init__(self, action: ActionSearchVacancies) -> None:
        self.action = action
        self.slots: Dict[str, Any] = {}

    async def ask(self, intent: str, entities: Dict[str, str]) -> float:
        """Milliseconds for the action to answer."""
        self.slots.update(entities)
        latest = {
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
            "text": intent,
        }
        tracker = Tracker("bench", dict(self.slots), latest, [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        started = time.perf_counter()
        events = await self.action.run(dispatcher, tracker, {})
        elapsed = (time.perf_counter() - started) * 1000
        assert dispatcher.messages, "every search gets an answer"
        for event in events:
            self.slots[event["name"]] = event["value"]
        return elapsed


def _percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _cycle() -> Iterator[Tuple[str, Dict[str, str]]]:
    while True:
        yield from QUERIES


async def _measure(settings: VacancySettings, server: _FeedServer) -> Dict[str, Any]:
    feed_settings = replace(settings, url=server.url("/feed"), cache_ttl_s=3600.0)
    cold_ms = []
    for _ in range(COLD_RUNS):
        forget_clients()
        applicant = _Applicant(ActionSearchVacancies(feed_settings))
        cold_ms.append(await applicant.ask(*QUERIES[0]))

    warm_ms = []
    queries = _cycle()
    for _ in range(WARM_SEARCHES):
        warm_ms.append(await applicant.ask(*next(queries)))

    slow_settings = replace(settings, url=server.url("/slow"))
    slow_ms = []
    for _ in range(SLOW_RUNS):
        forget_clients()
        applicant = _Applicant(ActionSearchVacancies(slow_settings))
        slow_ms.append(await applicant.ask(*QUERIES[0]))
    forget_clients()
    return {"cold_ms": cold_ms, "warm_ms": warm_ms, "slow_ms": slow_ms}


def run() -> str:
    """The "Vacancy search" section of BENCHMARKS.md."""
    settings = VacancySettings.from_env()
    body = feed(POSTINGS, datetime.now(timezone.utc))
    server = _FeedServer(body, slow_s=settings.timeout_s + 10)
    try:
        figures = asyncio.run(_measure(settings, server))
    finally:
        server.close()
    warm, cold, slow = figures["warm_ms"], figures["cold_ms"], figures["slow_ms"]
    p50, p95 = _percentile(warm, 50), _percentile(warm, 95)
    limit_ms = settings.timeout_s * 1000
    lines = [
        "## Vacancy search (action server, in process)",
        "",
        f"The real `action_search_vacancies` against a local HTTP feed of {POSTINGS:,} schema.org "
        f"JobPostings ({len(body) / 1e6:.1f} MB), VACANCIES_TIMEOUT_S={settings.timeout_s:g}.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| action latency, warm cache, p50 ({len(warm)} searches) | {p50:.1f} ms | |",
        f"| action latency, warm cache, p95 | {p95:.1f} ms | <= {TARGET_P95_MS:.0f} ms |",
        f"| cold fetch, parse and index, then answer (median of {len(cold)}) | "
        f"{statistics.median(cold):.0f} ms | < {limit_ms:.0f} ms (the timeout) |",
        f"| cold fetch from a feed that never answers in time (worst of {len(slow)}) | "
        f"{max(slow):.0f} ms | <= {limit_ms:.0f} ms (the timeout) |",
        "",
        f"- Warm-cache p95 {'meets' if p95 <= TARGET_P95_MS else 'MISSES'} the target. "
        "Searches cycle through family, place, keyword, paging and no-match queries.",
        "- A feed that doesn't answer in time gets the applicant the careers-site link once the "
        "timeout is up (or the last good copy, marked as possibly out of date).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
