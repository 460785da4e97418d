"""The Insights page, its CSV export and `GET /api/insights` on the desk.

The figures come from the insights tables alone (desk/insights/figures.py), which hold anonymous
daily counts: no message text, no sender id. The desk also runs the roll-up that fills them
every INSIGHTS_ROLLUP_SECONDS (0: off, when a cron job runs `python -m desk.insights rollup`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, Iterator, List
from zoneinfo import ZoneInfo

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.insights import charts, store
from desk.insights.figures import BadRange, Range, channels, figures
from desk.insights.rollup import Rollup
from desk.insights.settings import InsightsSettings
from desk.service import BadRequest, Desk
from desk.storage import make_engine
from desk.web import DeskWeb

logger = logging.getLogger(__name__)
DEFAULT_DAYS = 7
# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def register(app: Sanic, web: DeskWeb) -> None:
    """Add the Insights page, the CSV and the API route, and the roll-up loop."""
    desk, page, signed_in, api, clock = web.desk, web.page, web.signed_in, web.api, web.clock
    settings = InsightsSettings.from_env()
    reader = _Reader(settings, clock)
    chosen, read, zone = reader.chosen, reader.read, reader.zone

    @app.get("/insights")
    @signed_in
    async def insights_page(request: Request) -> HTTPResponse:
        problem = ""
        try:
            wanted = chosen(request)
        except BadRange as error:
            wanted, problem = reader.default_range(), str(error)
        found = await desk.db(read, wanted)
        return page(
            "insights.html",
            status=400 if problem else 200,
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            error=problem,
            figures=found,
            daily=charts.daily(found["per_day"]),
            topics=charts.topics(found),
            times=charts.handoff_times(found),
            query=request.query_string,
            updated=_when(found["updated_at"], zone),
        )

    @app.get("/insights.csv")
    @signed_in
    async def insights_csv(request: Request) -> HTTPResponse:
        try:
            wanted = chosen(request)
        except BadRange as error:
            return response.text(str(error), status=400)
        found = await desk.db(read, wanted)
        name = f"insights-{wanted.start}-{wanted.end}.csv"
        return response.text(
            as_csv(found),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/api/insights")
    @api
    async def insights_api(request: Request) -> HTTPResponse:
        try:
            wanted = chosen(request)
        except BadRange as error:
            raise BadRequest(str(error)) from error
        found = await desk.db(read, wanted)
        return response.json(found)

    if settings.rollup_seconds > 0:
        _schedule_rollup(app, desk, settings)


class _Reader:
    """Which days a request asks for, and their figures from the insights tables."""

    def __init__(self, settings: InsightsSettings, clock: Callable[[], float]) -> None:
        self.zone = ZoneInfo(settings.office.timezone)
        self.clock = clock
        self.engine = make_engine(settings.insights_db_url)
        store.create_tables(self.engine)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), timezone.utc).astimezone(self.zone).date()

    def default_range(self) -> Range:
        """The last 7 days, today included."""
        return Range(self.today() - timedelta(days=DEFAULT_DAYS - 1), self.today())

    def chosen(self, request: Request) -> Range:
        first, last = request.args.get("from"), request.args.get("to")
        if first is None and last is None:
            default = self.default_range()
            first, last = default.start.isoformat(), default.end.isoformat()
        return Range.parse(first, last or self.today().isoformat(), request.args.get("channel"))

    def read(self, wanted: Range) -> Dict[str, Any]:
        with self.engine.connect() as db:
            return {**figures(db, wanted), "channels": channels(db)}


def _schedule_rollup(app: Sanic, desk: Desk, settings: InsightsSettings) -> None:
    async def loop(stopping: asyncio.Event) -> None:
        job = await desk.db(Rollup, settings)
        try:
            while not stopping.is_set():
                try:
                    result = await desk.db(job.run)
                    logger.info(result.line())
                except Exception as error:  # the kind only: SQL parameters hold sender ids
                    logger.warning("insights roll-up failed: %s", type(error).__name__)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stopping.wait(), settings.rollup_seconds)
        finally:
            job.dispose()

    async def start(app: Sanic, _: Any) -> None:
        app.ctx.insights_stopping = asyncio.Event()
        app.ctx.insights = asyncio.get_running_loop().create_task(loop(app.ctx.insights_stopping))

    async def stop(app: Sanic, _: Any) -> None:
        app.ctx.insights_stopping.set()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(app.ctx.insights, 30)

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


def _when(epoch: float | None, zone: ZoneInfo) -> str:
    if not epoch:
        return "not yet"
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(zone).strftime("%d %b %Y %H:%M")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def _rows(found: Dict[str, Any]) -> Iterator[List[Any]]:
    yield ["section", "name", "value", "previous period", "change"]
    for name in (
        "conversations",
        "applicant_messages",
        "answered_without_recruiter",
        "containment",
        "off_topic",
        "not_understood",
        "did_you_mean_shown",
        "safety_messages",
        "handoffs",
        "handoffs_answered_within_promise",
        "vacancy_searches",
        "vacancy_searches_without_results",
    ):
        yield ["headline", name, found[name], "", ""]
    for what in ("handoff_minutes_to_claim", "handoff_minutes_to_first_reply"):
        for statistic, value in found[what].items():
            yield ["handoff times", f"{what} {statistic}", value, "", ""]
    for item in found["handoff_reasons"]:
        yield ["handoff reason", item["reason"], item["count"], "", ""]
    for item in found["top_topics"]:
        yield ["topic", item["topic"], item["count"], item["previous"], item["change"]]
    for item in found["vacancy_searches_by_family_and_place"]:
        where = f"{item['job_family']} / {item['location']}"
        yield ["vacancy search", where, item["count"], "", ""]
        yield ["vacancy search without results", where, item["without_results"], "", ""]
    for day in found["per_day"]:
        yield ["day", day["day"], day["conversations"], "", ""]
        yield ["day containment", day["day"], day["containment"], "", ""]


def as_csv(found: Dict[str, Any]) -> str:
    """The page's figures, one per row; "fewer than 5" stays words, never a number."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["from", found["from"], "to", found["to"], "channel", found["channel"] or "all"]
    )
    for row in _rows(found):
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
