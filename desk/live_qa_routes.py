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
from collections import Counter
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
from desk.live_qa_store import ANSWERED, HIDDEN, STATES, LiveQaStore, as_rows
from desk.live_qa_writer import BatchWriter
from desk.service import MAX_ID, Desk
from desk.service_auth import service_only
from desk.settings import PROJECT_ROOT, DeskSettings
from desk.web import DeskWeb

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
TOPIC_TITLES_FILE = PROJECT_ROOT / "data" / "topic_titles.yml"
POLL_SECONDS = 2
# One request to the channel: up to 100 private replies, each a Graph API call.
REPLIES_TIMEOUT_S = 120.0
# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def register(app: Sanic, web: DeskWeb) -> None:
    """Add the intake API, the Live Q&A page, its JSON, actions and CSV to the desk."""
    settings, signed_in = web.settings, web.signed_in
    board = LiveQaBoard(web.desk, web.page, settings, web.clock)
    # service_only's handlers are typed as awaitables; Sanic's as coroutines (they are).
    intake_route = service_only(settings.service_token)(board.live_question)
    app.add_route(intake_route, "/api/live-questions", methods=["POST"])  # type: ignore[arg-type]
    app.add_route(board.live_qa_script, "/live-qa/board.js", methods=["GET"])
    for handler, uri, method in (
        (board.live_qa_page, "/live-qa", "GET"),
        (board.live_qa_json, "/live-qa.json", "GET"),
        (board.live_qa_csv, "/live-qa.csv", "GET"),
        (board.live_qa_state, "/live-qa/groups/<group_id:int>/state", "POST"),
        (board.live_qa_send, "/live-qa/groups/<group_id:int>/send", "POST"),
    ):
        app.add_route(signed_in(handler), uri, methods=[method])
    app.register_listener(board.warm_up, "after_server_start")
    app.register_listener(board.stop_writing, "before_server_stop")


# How long stopping the desk waits for the redaction's pipeline to finish loading.
WARM_UP_WAIT_S = 60.0


class LiveQaBoard:
    """The routes' handlers, sharing the store, the channel and the topic titles."""

    def __init__(
        self,
        desk: Desk,
        page: Callable[..., HTTPResponse],
        settings: DeskSettings,
        clock: Callable[[], float],
    ) -> None:
        self.desk = desk
        self.page = page
        self.clock = clock
        self.store = LiveQaStore(desk.store.engine)
        self.channel = ChannelReplies(settings.rasa_url, settings.service_token, REPLIES_TIMEOUT_S)
        self.titles = topic_titles()
        self.writer = BatchWriter(self.store, desk.db)
        self.sending: Dict[int, asyncio.Lock] = {}
        self._warming: asyncio.Task | None = None

    async def live_question(self, request: Request) -> HTTPResponse:
        """The channel's intake: 201 stored, 200 a comment seen before, 400 bad input."""
        try:
            new = intake.parse(_json_body(request))
        except intake.BadQuestion as error:
            return response.json({"error": str(error)}, status=400)
        text = await self.desk.db(intake.redact, new.text) if not new.abuse else ""
        stored = await self.writer.add(replace(new, text=text), self.clock())
        summary = intake.summary(stored.question_id, stored.group_id, stored.duplicate)
        return response.json(summary, status=200 if stored.duplicate else 201)

    async def live_qa_page(self, request: Request) -> HTTPResponse:
        return self.page(
            "live_qa.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            media=request.args.get("media", ""),
            notice=request.args.get("notice", ""),
            poll_seconds=POLL_SECONDS,
        )

    async def live_qa_script(self, request: Request) -> HTTPResponse:
        script = (HERE / "static" / "live_qa.js").read_text(encoding="utf-8")
        return response.text(script, content_type="text/javascript")

    async def live_qa_json(self, request: Request) -> HTTPResponse:
        """The broadcast asked for (else the latest) as the board draws it."""
        broadcasts = await self.desk.db(self.store.broadcasts)
        media = request.args.get("media") or (broadcasts[0]["media_id"] if broadcasts else "")
        board = await self.desk.db(self.store.board, media)
        for group in board["groups"]:
            group["title"] = self.titles.get(group["topic"] or "", group["topic"] or "")
            group["can_send"] = bool(group["topic"]) and self.channel.configured
        return response.json({**board, "broadcasts": broadcasts})

    async def group_of(self, group_id: int) -> Dict[str, Any] | None:
        """The group, or None, for any id (one no database column can hold included)."""
        if not 0 < group_id <= MAX_ID:
            return None
        return await self.desk.db(self.store.group, group_id)

    async def live_qa_state(self, request: Request, group_id: int) -> HTTPResponse:
        state = (request.form or {}).get("state") or ""
        if state not in STATES:
            return response.text(f"state must be one of {', '.join(STATES)}.", status=400)
        group = await self.group_of(group_id)
        if group is None:
            return response.text(f"There is no Live Q&A group {group_id}.", status=404)
        me = request.ctx.session["name"]
        await self.desk.db(self.store.set_state, group_id, state, me, self.clock())
        return _back(group["media_id"], _state_notice(state))

    async def live_qa_send(self, request: Request, group_id: int) -> HTTPResponse:
        group = await self.group_of(group_id)
        if group is None:
            return response.text(f"There is no Live Q&A group {group_id}.", status=404)
        if not group["topic"]:
            return response.text("This group has no topic, so no answer to send.", status=409)
        if not self.channel.configured:
            return response.text("Set DESK_SERVICE_TOKEN to send private replies.", status=503)
        # Shielded: a host closing the page (or a proxy's timeout) does not stop a send half-way,
        # which would leave replies claimed and never recorded.
        work = self.send_privately(group_id, group["topic"], request.ctx.session["name"])
        counts = await asyncio.shield(asyncio.ensure_future(work))
        what = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return _back(group["media_id"], f"Sent privately: {what or 'nobody new to answer'}.")

    async def send_privately(self, group_id: int, topic: str, me: str) -> Counter:
        """One private reply per person in the group not yet answered; the outcomes counted."""
        async with self.sending.setdefault(group_id, asyncio.Lock()):
            claimed = await self.desk.db(self.store.claim_replies, group_id, self.clock())
            by_comment = {comment_id: question_id for question_id, comment_id in claimed}
            sent = await self.channel.send(topic, list(by_comment))
            outcomes = {by_comment[comment_id]: status for comment_id, status in sent.items()}
            return await self.desk.db(
                self.store.finish_replies, group_id, outcomes, me, self.clock()
            )

    async def live_qa_csv(self, request: Request) -> HTTPResponse:
        media = request.args.get("media") or ""
        if not media:
            return response.text("Say which broadcast: ?media=<media id>.", status=400)
        board = await self.desk.db(self.store.board, media)
        me = request.ctx.session["name"]
        await self.desk.db(self.store.record_export, media, me, self.clock())
        out = io.StringIO()
        writer = csv.writer(out)
        for row in as_rows(board, self.titles):
            writer.writerow([_cell(value) for value in row])
        return response.text(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="live-qa-{_safe(media)}.csv"'},
        )

    async def warm_up(self, app: Sanic, loop: Any) -> None:
        """Load the redaction's spaCy pipeline now, not on the first live comment: in a task,
        so the desk serves at once; stopping the desk waits for it (stop_writing)."""
        self._warming = loop.create_task(self._load_redaction())

    async def _load_redaction(self) -> None:
        try:
            await self.desk.db(intake.redact, "warm up 07700 900123")
        except Exception as error:  # the intake says so again when it is used
            logger.warning("live q&a: redaction not ready (%s)", error)

    async def stop_writing(self, app: Sanic, _: Any) -> None:
        if self._warming is not None:
            await asyncio.wait([self._warming], timeout=WARM_UP_WAIT_S)
        await self.writer.stop()


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
