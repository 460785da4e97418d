"""The trainers' pages on the desk: the Training inbox, and "flag for training" on transcripts.

Trainers see the inbox of missed applicant messages (training/inbox.py), redacted and grouped,
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
    desk, page, signed_in, clock = web.desk, web.page, web.signed_in, web.clock
    templates = web.pages.templates
    inbox_settings = InboxSettings.from_env()
    training = TrainingStore(desk.store.engine)
    labelling_lock = asyncio.Lock()
    cache: Dict[str, Any] = {}

    @app.middleware("request")
    async def remember_request(request: Request) -> None:
        _request.set(request)

    templates.globals["is_trainer"] = _is_trainer

    def trainer_only(request: Request) -> HTTPResponse | None:
        if request.ctx.session.get("role") != TRAINER:
            return response.text("Only trainers can use the Training page.", status=403)
        return None

    async def current_inbox() -> Inbox:
        fresh = cache.get("inbox")
        if fresh is not None and cache["at"] > time.monotonic() - CACHE_S:
            return fresh
        days = inbox_settings.since_days
        query = InboxQuery(
            since=None if days is None else clock() - days * 86400,
            confidence=inbox_settings.confidence,
            similarity=inbox_settings.similarity,
            page_size=inbox_settings.page_size,
            limit=SHOWN_GROUPS,
        )
        found = await desk.db(collect, inbox_settings, query)
        cache.update(inbox=found, at=time.monotonic())
        return found

    async def training_page(
        request: Request, notice: str = "", error: str = "", status: int = 200
    ) -> HTTPResponse:
        try:
            inbox = await current_inbox()
            unreadable = ""
        except Exception as failure:  # shown to the trainer, logged in full
            logger.exception("training inbox failed")
            inbox, unreadable = Inbox(items=[]), f"The inbox could not be read: {failure}"
        try:
            known = await desk.db(topics, inbox_settings.data_dir)
        except Exception as failure:  # e.g. malformed YAML, with its line
            known, error = [], error or str(failure)
        return page(
            "training.html",
            status=status,
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            inbox=inbox,
            topics=known,
            since_days=inbox_settings.since_days,
            notice=notice or request.args.get("notice", ""),
            error=error or unreadable,
        )

    @app.get("/training")
    @signed_in
    async def training_inbox(request: Request) -> HTTPResponse:
        return trainer_only(request) or await training_page(request)

    @app.post("/training/decide")
    @signed_in
    async def training_decide(request: Request) -> HTTPResponse:
        refused = trainer_only(request)
        if refused:
            return refused
        form = request.form or {}
        decision = (form.get("decision") or "").strip()
        me = request.ctx.session["name"]
        if decision not in DECISIONS:
            return await training_page(
                request, error=f"Choose one of: {', '.join(DECISIONS)}.", status=400
            )
        # Redacted again: the form came from a browser.
        text = await desk.db(redact, (form.get("text") or "").strip()[:MAX_TEXT_CHARS])
        if not text:
            return await training_page(request, error="There is no message to label.", status=400)
        topic = (form.get("new_topic") if decision == NEW_TOPIC else form.get("topic")) or ""
        topic = topic.strip()
        if decision != IGNORED and not topic:
            what = "a name for the new topic" if decision == NEW_TOPIC else "a topic"
            return await training_page(request, error=f"Give {what}.", status=400)
        async with labelling_lock:
            earlier = await desk.db(training.decision, key_of(text))
            if earlier is not None:
                return await training_page(request, error=_already(earlier), status=409)
            notice = f"Ignored: {text}"
            if decision != IGNORED:
                add = add_topic if decision == NEW_TOPIC else add_example
                writing = functools.partial(add, topic, text, data_dir=inbox_settings.data_dir)
                try:
                    added = await desk.db(writing)
                except LabellingError as refusal:
                    return await training_page(request, error=refusal.message, status=400)
                notice = _added(added, inbox_settings)
                topic = getattr(added, "intent", topic)
            stored = Decision(
                text_hash=key_of(text),
                text=text,
                decision=decision,
                topic=topic if decision != IGNORED else None,
                actor=me,
                at=clock(),
            )
            earlier = await desk.db(training.decide, stored)
            cache.clear()
        if earlier is not None:
            return await training_page(request, error=_already(earlier), status=409)
        return response.redirect(f"/training?notice={quote(notice)}")

    @app.post("/handoffs/<handoff_id:int>/flag")
    @signed_in
    async def flag_for_training(request: Request, handoff_id: int) -> HTTPResponse:
        try:
            handoff = await desk.handoff(handoff_id)
        except NotFound as error:
            return response.text(str(error), status=404)
        try:
            at = float((request.form or {}).get("at") or "")
        except ValueError:
            return response.text("Say which message to flag (its time).", status=400)
        transcript = await desk.transcript(handoff)
        entry = _applicant_entry(transcript["entries"], at)
        if entry is None:
            return response.text("There is no applicant message at that time.", status=404)
        flag = Flag(
            sender_id=handoff["sender_id"],
            message_at=float(entry["at"]),
            text=await desk.db(redact, str(entry["text"])),
            handoff_id=handoff_id,
            flagged_by=request.ctx.session["name"],
            at=clock(),
        )
        added = await desk.db(training.flag, flag)
        cache.clear()
        notice = "flagged" if added else "already-flagged"
        return response.redirect(f"/handoffs/{handoff_id}?notice={notice}")


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
