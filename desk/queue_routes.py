"""The recruiters' pages: the queue, a handoff with its transcript and forms (claim, reply,
note, release, close), and the audit log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

from ruamel.yaml import YAML
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.rasa_api import DeliveryError
from desk.service import STATUSES_SHOWN, BadRequest, Conflict, NotFound
from desk.storage import CLAIMED, CLOSED, WAITING
from desk.web import DeskWeb

logger = logging.getLogger(__name__)
CLOSED_SHOWN = 50


def register(app: Sanic, web: DeskWeb) -> None:
    """Add the queue, the handoff page, its transcript JSON and its forms, and the audit log."""
    desk, store, clock, signed_in = web.desk, web.desk.store, web.clock, web.signed_in
    saved_replies = saved_replies_in(web.settings.saved_replies_file)

    @app.get("/")
    @signed_in
    async def queue(request: Request) -> HTTPResponse:
        lists = {status: await desk.db(store.list_handoffs, status) for status in STATUSES_SHOWN}
        return web.page(
            "queue.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            waiting=lists[WAITING],
            claimed=lists[CLAIMED],
            closed=lists[CLOSED][:CLOSED_SHOWN],
            now=clock(),
        )

    @app.get("/handoffs/<handoff_id:int>")
    @signed_in
    async def handoff_page(request: Request, handoff_id: int) -> HTTPResponse:
        try:
            handoff = await desk.handoff(handoff_id)
        except NotFound as error:
            return response.text(str(error), status=404)
        return web.page(
            "handoff.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            handoff=handoff,
            transcript=await desk.transcript(handoff),
            saved_replies=saved_replies,
            notice=request.args.get("notice", ""),
        )

    @app.get("/handoffs/<handoff_id:int>/transcript.json")
    @signed_in
    async def transcript_json(request: Request, handoff_id: int) -> HTTPResponse:
        try:
            handoff = await desk.handoff(handoff_id)
        except NotFound as error:
            return response.json({"error": str(error)}, status=404)
        return response.json(
            {"status": handoff["status"], **await desk.transcript(handoff)},
            headers={"Cache-Control": "no-store"},
        )

    _register_forms(app, web)
    _register_audit(app, web)


def _register_forms(app: Sanic, web: DeskWeb) -> None:
    """The handoff page's forms; each goes back to the page, or answers with its refusal."""
    desk, signed_in = web.desk, web.signed_in

    @app.post("/handoffs/<handoff_id:int>/claim")
    @signed_in
    async def claim_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.claim(handoff_id, me))

    @app.post("/handoffs/<handoff_id:int>/reply")
    @signed_in
    async def reply_form(request: Request, handoff_id: int) -> HTTPResponse:
        text = _form_text(request)
        return await act(request, handoff_id, lambda me: desk.reply(handoff_id, me, text))

    @app.post("/handoffs/<handoff_id:int>/note")
    @signed_in
    async def note_form(request: Request, handoff_id: int) -> HTTPResponse:
        text = _form_text(request)
        return await act(request, handoff_id, lambda me: desk.note(handoff_id, me, text))

    @app.post("/handoffs/<handoff_id:int>/release")
    @signed_in
    async def release_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.release(handoff_id, me))

    @app.post("/handoffs/<handoff_id:int>/close")
    @signed_in
    async def close_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.close(handoff_id, me))


def _register_audit(app: Sanic, web: DeskWeb) -> None:
    """The audit log: who did what to which handoff, and sign-ins."""

    @app.get("/audit")
    @web.signed_in
    async def audit_page(request: Request) -> HTTPResponse:
        return web.page(
            "audit.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            entries=await web.desk.db(web.desk.store.audit_log),
        )


async def act(
    request: Request, handoff_id: int, doing: Callable[[str], Awaitable[Any]]
) -> HTTPResponse:
    """Run a form's action; show its outcome on the handoff page."""
    me = request.ctx.session["name"]
    try:
        outcome = await doing(me)
    except NotFound as error:
        return response.text(str(error), status=404)
    except Conflict as error:
        return response.text(str(error), status=409)
    except BadRequest as error:
        return response.text(str(error), status=400)
    except DeliveryError as error:
        return response.text(f"Not done: the assistant could not be reached ({error}).", 502)
    notice = ""
    if outcome is not None and getattr(outcome, "delivered", True) is False:
        notice = "?notice=not-delivered"
    return response.redirect(f"/handoffs/{handoff_id}{notice}")


def _form_text(request: Request) -> str:
    return (request.form or {}).get("text") or ""


def saved_replies_in(path: Path) -> List[Dict[str, str]]:
    """The saved replies offered on the handoff page; none if the file is missing."""
    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        logger.warning("%s: no saved replies", path)
        return []
    return [
        {"title": str(entry["title"]), "text": str(entry["text"]).strip()}
        for entry in document.get("saved_replies") or []
        if isinstance(entry, dict) and "title" in entry and "text" in entry
    ]
