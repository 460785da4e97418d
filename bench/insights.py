"""The Insights benchmark: a busy account's year on PostgreSQL, rolled up and served.

In a scratch PostgreSQL database of its own (created, then dropped): the retention window of
raw traffic (bench/insights_traffic.py, 2,000 conversations and ~15,000 messages a day) is
written into Rasa's `events` table and the desk's handoff tables, and rolled up: once for the
whole window (the first run), then for one more day (the daily increment), then with nothing
new (what each scheduled run costs). The tracker store never holds more than the retention
(`make purge`), so the rest of the year's daily rows are copies of the rolled-up ones, shifted
back in time, which gives the insights tables a year's size. Then a real desk process answers
GET /api/insights and the Insights page for a year, a quarter and a week (p50/p95).
``run()`` returns the Markdown section for BENCHMARKS.md; ``python -m bench.insights`` prints it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import requests
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bench.insights_traffic import copy_events, day_of_traffic, days_back, insert_handoffs
from desk.insights import store
from desk.insights.rollup import Rollup, RollupResult
from desk.insights.settings import InsightsSettings
from desk.settings import OfficeHoursSettings
from desk.storage import Store, make_engine, migrate
from scripts.stack import Stack, free_port

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OPEN_DAYS = 28  # RETENTION_DAYS 30 less the purge margin
YEAR = 365
REQUESTS = 40
TARGET_MS = 500.0
DAILY_TABLES = ("insights_daily", "insights_daily_topics", "insights_daily_searches")


def _scratch() -> Tuple[str, str]:
    name = f"careers_bench_insights_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop(name: str) -> None:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _write_days(
    engine: sa.engine.Engine, days: List[date], returning: List[str]
) -> Tuple[int, float]:
    """Write these days' traffic; how many events, and the seconds it took."""
    started, written = time.monotonic(), 0
    for day in days:
        made = day_of_traffic(day, day.toordinal(), returning)
        copy_events(engine, made.events)
        insert_handoffs(engine, made.handoffs)
        written += len(made.events)
    return written, time.monotonic() - started


def _fill_year(engine: sa.engine.Engine, today: date) -> None:
    """Copies of the open days' daily rows (and handoffs), shifted back to cover a year."""
    first = (today - timedelta(days=OPEN_DAYS)).isoformat()
    with engine.begin() as db:
        for shift in range(OPEN_DAYS + 1, YEAR + 1, OPEN_DAYS + 1):
            for table in (*DAILY_TABLES, "insights_handoffs"):
                columns = [c.name for c in store.metadata.tables[table].c if c.name not in ("id",)]
                moved = [
                    f"to_char(day::date - {shift}, 'YYYY-MM-DD')" if c == "day"
                    else "NULL" if c == "handoff_id" else c
                    for c in columns
                ]  # fmt: skip
                db.execute(sa.text(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(moved)} "
                    f"FROM {table} WHERE day >= :first AND day::date - {shift} > :oldest"
                ), {"first": first, "oldest": today - timedelta(days=YEAR + 1)})  # fmt: skip
        db.execute(sa.text("ANALYZE"))


def _latency(get: Callable[[str], requests.Response], paths: List[str]) -> Dict[str, float]:
    timings = []
    for index in range(REQUESTS):
        started = time.perf_counter()
        reply = get(paths[index % len(paths)])
        timings.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 200, reply.text[:200]
    ordered = sorted(timings)
    return {"p50": statistics.median(ordered), "p95": ordered[round(0.95 * (len(ordered) - 1))]}


def _serve(url: str, today: date) -> Dict[str, Dict[str, float]]:
    """Latency of the API and the page, from a real desk process on the scratch database."""
    desk_store = Store(url)
    now = time.time()
    desk_store.add_user("bench", "not-a-password-hash", now)
    token = desk_store.create_token("bench", now, now + 3600)
    user_id = desk_store.user("bench")["id"]  # type: ignore[index]
    session, _ = desk_store.create_session(user_id, now, now + 3600)
    desk_store.engine.dispose()
    ranges = {
        "year": (today - timedelta(days=YEAR - 1), today),
        "quarter": (today - timedelta(days=90), today),
        "week": (today - timedelta(days=6), today),
    }
    found: Dict[str, Dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "desk.log", "wb") as log:
        env = {
            "DESK_DATABASE_URL": url,
            "INSIGHTS_ROLLUP_SECONDS": "0",
            "DESK_COOKIE_SECURE": "false",
        }
        stack = Stack(rasa_port=free_port(), token="bench", desk_port=free_port(), log=log, env=env)
        with stack.running(timeout=60, desk_only=True):
            api = {"Authorization": f"Bearer {token}"}
            page = {"Cookie": f"desk_session={session}"}
            for name, (first, last) in ranges.items():
                query = f"from={first}&to={last}"
                found[f"API, {name}"] = _latency(
                    lambda path: requests.get(stack.desk_url + path, headers=api, timeout=30),
                    [f"/api/insights?{query}", f"/api/insights?{query}&channel=instagram"],
                )
                found[f"page, {name}"] = _latency(
                    lambda path: requests.get(stack.desk_url + path, headers=page, timeout=30),
                    [f"/insights?{query}", f"/insights?{query}&channel=instagram"],
                )
    return found


def _sizes(engine: sa.engine.Engine) -> Dict[str, float]:
    mb = 1024 * 1024
    with engine.connect() as db:

        def size(sql: str) -> float:
            return float(db.execute(sa.text(sql)).scalar() or 0) / mb

        insights = " + ".join(f"pg_total_relation_size('{t}')" for t in store.metadata.tables)
        return {
            "database": size("SELECT pg_database_size(current_database())"),
            "events": size("SELECT pg_total_relation_size('events')"),
            "insights": size(f"SELECT {insights}"),
            "daily_rows": float(
                db.execute(sa.text("SELECT COUNT(*) FROM insights_daily_topics")).scalar() or 0
            ),
        }


def measure() -> Dict[str, Any]:
    name, url = _scratch()
    try:
        engine = make_engine(url)
        SQLTrackerStore.SQLEvent.__table__.create(engine)
        migrate(url)
        now = datetime.now(timezone.utc).replace(hour=23, minute=59).timestamp()
        today = datetime.fromtimestamp(now, timezone.utc).date()
        returning: List[str] = []
        events, write_s = _write_days(engine, days_back(today, OPEN_DAYS), returning)
        settings = InsightsSettings(
            url, url, url, OfficeHoursSettings(timezone="UTC"), OPEN_DAYS, 0
        )
        job = Rollup(settings)
        first = job.run(now)
        daily_events, _ = _write_days(engine, [today], returning)
        daily = job.run(now)
        idle = job.run(now)
        job.dispose()
        _fill_year(engine, today)
        sizes = _sizes(engine)
        engine.dispose()
        served = _serve(url, today)
        return {
            "events": events, "write_s": write_s, "first": first, "daily_events": daily_events,
            "daily": daily, "idle": idle, "sizes": sizes, "served": served,
        }  # fmt: skip
    finally:
        _drop(name)


def _rollup_row(name: str, result: RollupResult) -> str:
    return f"| {name} | {result.senders:,} | {result.conversations:,} | {result.seconds:.1f} |"


def run() -> str:
    found = measure()
    sizes, served = found["sizes"], found["served"]
    assert isinstance(sizes, dict) and isinstance(served, dict)
    first, daily, idle = found["first"], found["daily"], found["idle"]
    worst = max(figure["p95"] for figure in served.values())
    lines = [
        "## Insights (PostgreSQL, a busy account's year)",
        "",
        f"Synthetic traffic (bench/insights_traffic.py): 2,000 conversations and about 15,000 "
        f"applicant messages a day; {found['events']:,} tracker store events for the "
        f"{OPEN_DAYS} open days (written in {found['write_s']:.0f} s with COPY), "
        f"{found['daily_events']:,} for one more day. The rest of the year's daily rows are "
        "copies of the rolled-up ones (the tracker store keeps only the retention window).",
        "",
        "| roll-up | applicants read | conversations | seconds |",
        "| --- | --- | --- | --- |",
        _rollup_row(f"first run, {OPEN_DAYS} days", first),
        _rollup_row("one day's new traffic", daily),
        _rollup_row("nothing new (each scheduled run)", idle),
        "",
        f"| request ({REQUESTS} each, all channels and Instagram alone) | p50 ms | p95 ms |",
        "| --- | --- | --- |",
        *(f"| {name} | {f['p50']:.0f} | {f['p95']:.0f} |" for name, f in served.items()),
        "",
        "- Where a run with nothing new spends its time: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in idle.steps.items())
        + "; one day's traffic: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in daily.steps.items())
        + ".",
        f"- Slowest p95: {worst:.0f} ms (target <= {TARGET_MS:.0f} ms for a year).",
        f"- Database size: {sizes['database']:.0f} MB in all; the tracker store's events "
        f"{sizes['events']:.0f} MB; the insights tables {sizes['insights']:.1f} MB "
        f"({sizes['daily_rows']:,.0f} daily topic rows for the year).",
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    print(run())


if __name__ == "__main__":
    main()
