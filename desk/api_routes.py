"""The recruiters' JSON API (bearer tokens from `python -m desk create-token`): list, read,
claim, reply to, release and close handoffs."""

from __future__ import annotations

from typing import Any, Dict

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.service import STATUSES_SHOWN, BadRequest
from desk.storage import WAITING
from desk.web import DeskWeb


def register(app: Sanic, web: DeskWeb) -> None:
    """Add GET /api/handoffs[/<id>] and POST /api/handoffs/<id>/{claim,messages,release,close}."""
    desk, api = web.desk, web.api

    @app.get("/api/handoffs")
    @api
    async def api_list(request: Request) -> HTTPResponse:
        status = request.args.get("status", WAITING)
        if status not in STATUSES_SHOWN:
            raise BadRequest(f"status must be one of {', '.join(STATUSES_SHOWN)}.")
        found = await desk.db(desk.store.list_handoffs, status)
        return response.json({"handoffs": [summary(handoff) for handoff in found]})

    @app.get("/api/handoffs/<handoff_id:int>")
    @api
    async def api_get(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await desk.handoff(handoff_id)
        transcript = await desk.transcript(handoff)
        return response.json({**summary(handoff), "transcript": transcript["entries"]})

    @app.post("/api/handoffs/<handoff_id:int>/claim")
    @api
    async def api_claim(request: Request, handoff_id: int) -> HTTPResponse:
        return response.json(summary(await desk.claim(handoff_id, request.ctx.user)))

    @app.post("/api/handoffs/<handoff_id:int>/messages")
    @api
    async def api_reply(request: Request, handoff_id: int) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        delivery = await desk.reply(handoff_id, request.ctx.user, str(body.get("text") or ""))
        result = {"message_id": delivery.message_id, "delivered": delivery.delivered}
        if not delivery.delivered:
            return response.json({**result, "error": f"Not delivered: {delivery.error}"}, 502)
        return response.json(result, status=201)

    @app.post("/api/handoffs/<handoff_id:int>/release")
    @api
    async def api_release(request: Request, handoff_id: int) -> HTTPResponse:
        await desk.release(handoff_id, request.ctx.user)
        return response.json(summary(await desk.handoff(handoff_id)))

    @app.post("/api/handoffs/<handoff_id:int>/close")
    @api
    async def api_close(request: Request, handoff_id: int) -> HTTPResponse:
        await desk.close(handoff_id, request.ctx.user)
        return response.json(summary(await desk.handoff(handoff_id)))


def summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """A handoff without its stored transcript (the API reads that separately)."""
    return {key: value for key, value in handoff.items() if key != "transcript"}
