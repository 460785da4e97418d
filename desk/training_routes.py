"""The trainers' pages on the desk: the Training inbox, and "flag for training" on transcripts.

Trainers see the inbox of missed applicant messages (desk/training_inbox.py), redacted and grouped,
and put each group under an existing topic, a new topic, or ignore it; the example is written
by training/labelling.py and the decision stored (desk/training_store.py) so the group does not
come back. Recruiters get 403 here, but any desk user can flag an applicant's message from a
transcript for the trainers.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from typing import Any, Dict, List
from urllib.parse import quote

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.service import NotFound
from desk.settings import database_url
from desk.training_inbox import collect
from desk.training_store import (
    DECISIONS,
    IGNORED,
    LABELLED,
    NEW_TOPIC,
    SAME_MOMENT_S,
    TRAINER,
    Decision,
    Flag,
    TrainingStore,
)
from desk.web import DeskWeb
from training.grouping import key_of
from training.inbox_groups import Inbox, InboxQuery
from training.inbox_settings import InboxSettings
from training.labelling import LabellingError, add_example, add_topic, topics
from training.redaction import redact

logger = logging.getLogger(__name__)
SHOWN_GROUPS = 100
MAX_TEXT_CHARS = 2000
# The inbox is read again at most this often; a decision or a flag reads it again at once.
CACHE_S = 60.0

_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "desk_request", default=None
)


def register(app: Sanic, web: DeskWeb) -> None:
    """Add the Training page, its form and the flag button's route to the desk."""
    pages = TrainingPages(web, InboxSettings.from_env(database_url()))

    @app.middleware("request")
    async def remember_request(request: Request) -> None:
        _request.set(request)

    web.pages.templates.globals["is_trainer"] = _is_trainer
    for handler, uri, method in (
        (pages.training_inbox, "/training", "GET"),
        (pages.training_decide, "/training/decide", "POST"),
        (pages.flag_for_training, "/handoffs/<handoff_id:int>/flag", "POST"),
    ):
        app.add_route(web.signed_in(handler), uri, methods=[method])


class TrainingPages:
    """The routes' handlers, sharing the inbox (cached) and the labelling lock."""

    def __init__(self, web: DeskWeb, settings: InboxSettings) -> None:
        self.desk, self.page, self.clock = web.desk, web.page, web.clock
        self.settings = settings
        self.training = TrainingStore(web.desk.store.engine)
        self.labelling_lock = asyncio.Lock()
        self.cache: Dict[str, Any] = {}

    async def current_inbox(self) -> Inbox:
        fresh = self.cache.get("inbox")
        if fresh is not None and self.cache["at"] > time.monotonic() - CACHE_S:
            return fresh
        days = self.settings.since_days
        query = InboxQuery(
            since=None if days is None else self.clock() - days * 86400,
            confidence=self.settings.confidence,
            similarity=self.settings.similarity,
            page_size=self.settings.page_size,
            limit=SHOWN_GROUPS,
        )
        found = await self.desk.db(collect, self.settings, query)
        self.cache.update(inbox=found, at=time.monotonic())
        return found

    async def training_page(
        self, request: Request, notice: str = "", error: str = "", status: int = 200
    ) -> HTTPResponse:
        try:
            inbox = await self.current_inbox()
            unreadable = ""
        except Exception as failure:  # shown to the trainer, logged in full
            logger.exception("training inbox failed")
            inbox, unreadable = Inbox(items=[]), f"The inbox could not be read: {failure}"
        try:
            known = await self.desk.db(topics, self.settings.data_dir)
        except Exception as failure:  # e.g. malformed YAML, with its line
            known, error = [], error or str(failure)
        return self.page(
            "training.html",
            status=status,
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            inbox=inbox,
            topics=known,
            since_days=self.settings.since_days,
            notice=notice or request.args.get("notice", ""),
            error=error or unreadable,
        )

    async def training_inbox(self, request: Request) -> HTTPResponse:
        return _trainer_only(request) or await self.training_page(request)

    async def training_decide(self, request: Request) -> HTTPResponse:
        refused = _trainer_only(request)
        if refused:
            return refused
        form = request.form or {}
        decision = (form.get("decision") or "").strip()
        if decision not in DECISIONS:
            error = f"Choose one of: {', '.join(DECISIONS)}."
            return await self.training_page(request, error=error, status=400)
        # Redacted again: the form came from a browser.
        text = await self.desk.db(redact, (form.get("text") or "").strip()[:MAX_TEXT_CHARS])
        if not text:
            error = "There is no message to label."
            return await self.training_page(request, error=error, status=400)
        topic = (form.get("new_topic") if decision == NEW_TOPIC else form.get("topic")) or ""
        topic = topic.strip()
        if decision != IGNORED and not topic:
            what = "a name for the new topic" if decision == NEW_TOPIC else "a topic"
            return await self.training_page(request, error=f"Give {what}.", status=400)
        async with self.labelling_lock:
            return await self.decide(request, decision, text, topic)

    async def decide(self, request: Request, decision: str, text: str, topic: str) -> HTTPResponse:
        """Write the example (unless ignored) and store the decision; under the labelling lock."""
        earlier = await self.desk.db(self.training.decision, key_of(text))
        if earlier is not None:
            return await self.training_page(request, error=_already(earlier), status=409)
        notice = f"Ignored: {text}"
        if decision != IGNORED:
            add = add_topic if decision == NEW_TOPIC else add_example
            writing = functools.partial(add, topic, text, data_dir=self.settings.data_dir)
            try:
                added = await self.desk.db(writing)
            except LabellingError as refusal:
                return await self.training_page(request, error=refusal.message, status=400)
            notice = _added(added, self.settings)
            topic = getattr(added, "intent", topic)
        stored = Decision(
            text_hash=key_of(text),
            text=text,
            decision=decision,
            topic=topic if decision != IGNORED else None,
            actor=request.ctx.session["name"],
            at=self.clock(),
        )
        earlier = await self.desk.db(self.training.decide, stored)
        self.cache.clear()
        if earlier is not None:
            return await self.training_page(request, error=_already(earlier), status=409)
        return response.redirect(f"/training?notice={quote(notice)}")

    async def flag_for_training(self, request: Request, handoff_id: int) -> HTTPResponse:
        try:
            handoff = await self.desk.handoff(handoff_id)
        except NotFound as error:
            return response.text(str(error), status=404)
        try:
            at = float((request.form or {}).get("at") or "")
        except ValueError:
            return response.text("Say which message to flag (its time).", status=400)
        transcript = await self.desk.transcript(handoff)
        entry = _applicant_entry(transcript["entries"], at)
        if entry is None:
            return response.text("There is no applicant message at that time.", status=404)
        flag = Flag(
            sender_id=handoff["sender_id"],
            message_at=float(entry["at"]),
            text=await self.desk.db(redact, str(entry["text"])),
            handoff_id=handoff_id,
            flagged_by=request.ctx.session["name"],
            at=self.clock(),
        )
        added = await self.desk.db(self.training.flag, flag)
        self.cache.clear()
        notice = "flagged" if added else "already-flagged"
        return response.redirect(f"/handoffs/{handoff_id}?notice={notice}")


def _trainer_only(request: Request) -> HTTPResponse | None:
    if request.ctx.session.get("role") != TRAINER:
        return response.text("Only trainers can use the Training page.", status=403)
    return None


def _is_trainer() -> bool:
    """For the navigation: is the person this page is for a trainer?"""
    request = _request.get()
    session = getattr(request.ctx, "session", None) if request is not None else None
    return isinstance(session, dict) and session.get("role") == TRAINER


def _applicant_entry(entries: List[Dict[str, Any]], at: float) -> Dict[str, Any] | None:
    for entry in entries:
        moment = entry.get("at")
        if entry.get("who") != "applicant" or moment is None or not entry.get("text"):
            continue
        if abs(float(moment) - at) <= SAME_MOMENT_S:
            return entry
    return None


def _already(earlier: Decision) -> str:
    what = {LABELLED: "labelled", NEW_TOPIC: "made a new topic", IGNORED: "ignored"}
    done = what.get(earlier.decision, earlier.decision)
    topic = f" ({earlier.topic})" if earlier.topic else ""
    return f"Already decided: {earlier.actor} {done}{topic} this message."


def _added(added: Any, settings: InboxSettings) -> str:
    """What was written where, e.g. "Added to faq/process_vetting: data/nlu/process.yml:120"."""
    root = settings.data_dir.resolve().parent
    places = []
    for change in getattr(added, "changes", ()) or ():
        try:
            where = change.path.resolve().relative_to(root)
        except ValueError:
            where = change.path
        places.append(f"{where}:{change.line}")
    notes = list(getattr(added, "notes", ()) or ())
    message = f"Added to {getattr(added, 'intent', '')}: {', '.join(places)}"
    if notes:
        message += ". " + " ".join(f"Note: {note}." for note in notes)
    return message
