"""The Live Q&A board on the desk, and the intake the Instagram channel posts live comments to.

POST /api/live-questions      the channel (service token): one live comment as a question
GET  /live-qa                 the board (signed-in desk users); it polls...
GET  /live-qa.json            ...the broadcast's groups, most people first
POST /live-qa/groups/<id>/state   mark a group answered, hide it, or show it again
POST /live-qa/groups/<id>/send    send the group's FAQ answer privately, one reply per person
GET  /live-qa.csv             after the broadcast: groups and counts, no one identifiable

Every host's action goes to the audit log. See docs/live_qa.md.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict
from urllib.parse import quote

from ruamel.yaml import YAML
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk import live_qa_intake as intake
from desk.live_qa_replies import ChannelReplies
from desk.live_qa_store import ANSWERED, HIDDEN, STATES, LiveQaStore, NewQuestion, as_rows
from desk.live_qa_writer import BatchWriter
from desk.service import Desk
from desk.service_auth import service_only
from desk.settings import PROJECT_ROOT, DeskSettings

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TOPIC_TITLES_FILE = PROJECT_ROOT / "data" / "topic_titles.yml"
POLL_SECONDS = 2
# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def register(
    app: Sanic,
    desk: Desk,
    page: Callable[..., HTTPResponse],
    signed_in: Callable[..., Any],
    settings: DeskSettings,
    clock: Callable[[], float] = time.time,
) -> None:
    """Add the intake API, the Live Q&A page, its JSON, actions and CSV to the desk."""
    store = LiveQaStore(desk.store.engine)
    channel = ChannelReplies(
        settings.rasa_url, settings.service_token, settings.rasa_timeout_seconds
    )
    titles = topic_titles()
    writer = BatchWriter(store, desk.db)
    sending: Dict[int, asyncio.Lock] = {}

    # service_only's handlers are typed as awaitables; Sanic's as coroutines (they are).
    @app.post("/api/live-questions")  # type: ignore[arg-type]
    @service_only(settings.service_token)
    async def live_question(request: Request) -> HTTPResponse:
        try:
            new = intake.parse(_json_body(request))
        except intake.BadQuestion as error:
            return response.json({"error": str(error)}, status=400)
        text = await desk.db(intake.redact, new.text) if not new.abuse else ""
        stored = await writer.add(_with_text(new, text), clock())
        summary = intake.summary(stored.question_id, stored.group_id, stored.duplicate)
        return response.json(summary, status=200 if stored.duplicate else 201)

    @app.get("/live-qa")
    @signed_in
    async def live_qa_page(request: Request) -> HTTPResponse:
        return page(
            "live_qa.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            media=request.args.get("media", ""),
            notice=request.args.get("notice", ""),
            poll_seconds=POLL_SECONDS,
        )

    @app.get("/live-qa/board.js")
    async def live_qa_script(request: Request) -> HTTPResponse:
        script = (HERE / "static" / "live_qa.js").read_text(encoding="utf-8")
        return response.text(script, content_type="text/javascript")

    @app.get("/live-qa.json")
    @signed_in
    async def live_qa_json(request: Request) -> HTTPResponse:
        broadcasts = await desk.db(store.broadcasts)
        media = request.args.get("media") or (broadcasts[0]["media_id"] if broadcasts else "")
        board = await desk.db(store.board, media)
        for group in board["groups"]:
            group["title"] = titles.get(group["topic"] or "", group["topic"] or "")
            group["can_send"] = bool(group["topic"]) and channel.configured
        return response.json({**board, "broadcasts": broadcasts})

    @app.post("/live-qa/groups/<group_id:int>/state")
    @signed_in
    async def live_qa_state(request: Request, group_id: int) -> HTTPResponse:
        state = (request.form or {}).get("state") or ""
        if state not in STATES:
            return response.text(f"state must be one of {', '.join(STATES)}.", status=400)
        group = await desk.db(store.group, group_id)
        if group is None:
            return response.text(f"There is no Live Q&A group {group_id}.", status=404)
        me = request.ctx.session["name"]
        await desk.db(store.set_state, group_id, state, me, clock())
        return _back(group["media_id"], _state_notice(state))

    @app.post("/live-qa/groups/<group_id:int>/send")
    @signed_in
    async def live_qa_send(request: Request, group_id: int) -> HTTPResponse:
        group = await desk.db(store.group, group_id)
        if group is None:
            return response.text(f"There is no Live Q&A group {group_id}.", status=404)
        if not group["topic"]:
            return response.text("This group has no topic, so no answer to send.", status=409)
        if not channel.configured:
            return response.text("Set DESK_SERVICE_TOKEN to send private replies.", status=503)
        me = request.ctx.session["name"]
        async with sending.setdefault(group_id, asyncio.Lock()):
            claimed = await desk.db(store.claim_replies, group_id, clock())
            by_comment = {comment_id: question_id for question_id, comment_id in claimed}
            sent = await channel.send(group["topic"], list(by_comment))
            outcomes = {by_comment[comment_id]: status for comment_id, status in sent.items()}
            counts = await desk.db(store.finish_replies, group_id, outcomes, me, clock())
        what = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return _back(group["media_id"], f"Sent privately: {what or 'nobody new to answer'}.")

    @app.get("/live-qa.csv")
    @signed_in
    async def live_qa_csv(request: Request) -> HTTPResponse:
        media = request.args.get("media") or ""
        if not media:
            return response.text("Say which broadcast: ?media=<media id>.", status=400)
        board = await desk.db(store.board, media)
        await desk.db(store.record_export, media, request.ctx.session["name"], clock())
        out = io.StringIO()
        writer = csv.writer(out)
        for row in as_rows(board, titles):
            writer.writerow([_cell(value) for value in row])
        name = f"live-qa-{_safe(media)}.csv"
        return response.text(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def warm_up(app: Sanic, _: Any) -> None:
        """Load the redaction's spaCy pipeline now, not on the first live comment."""
        try:
            await desk.db(intake.redact, "warm up 07700 900123")
        except Exception as error:  # the intake says so again when it is used
            logger.warning("live q&a: redaction not ready (%s)", error)

    async def stop_writing(app: Sanic, _: Any) -> None:
        await writer.stop()

    app.register_listener(warm_up, "after_server_start")
    app.register_listener(stop_writing, "before_server_stop")


def topic_titles(path: Path = TOPIC_TITLES_FILE) -> Dict[str, str]:
    """Topic -> its short title (data/topic_titles.yml); none if the file cannot be read."""
    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        logger.warning("%s: no topic titles", path)
        return {}
    found = document.get("titles") or {}
    return {str(topic): str(title) for topic, title in found.items()}


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except Exception as error:  # Sanic's InvalidUsage on a body that is not JSON
        raise intake.BadQuestion("The body must be JSON.") from error


def _with_text(new: NewQuestion, text: str) -> NewQuestion:
    return replace(new, text=text)


def _state_notice(state: str) -> str:
    if state == HIDDEN:
        return "Group hidden."
    return "Marked answered." if state == ANSWERED else "Group shown again."


def _back(media_id: str, notice: str) -> HTTPResponse:
    return response.redirect(f"/live-qa?media={quote(media_id)}&notice={quote(notice)}")


def _safe(media_id: str) -> str:
    return "".join(char for char in media_id if char.isalnum() or char in "-_")[:64] or "media"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)
