"""The desk's service API: what the action server (and later the channels) call, never recruiters.

POST /api/handoffs                        queue a conversation for a recruiter
DELETE /api/applicants/<conversation_id>  erase everything the desk holds from one applicant

Both take the service token (desk/service_auth.py), not a recruiter's. The desk owns its
tables and its office hours: the caller sends what it knows of the conversation and gets back
the handoff's id and the reply time to tell the applicant.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from typing import Any, Callable, Coroutine, Dict, List, Mapping, cast
from urllib.parse import unquote

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.applicant_records import erase_sender
from desk.notify import HandoffNotifier
from desk.service import BadRequest
from desk.service_auth import service_only
from desk.storage import NewHandoff
from desk.web import DeskWeb

logger = logging.getLogger(__name__)

Route = Callable[..., Coroutine[Any, Any, HTTPResponse]]
# Column sizes (desk/storage.py) and what a handoff is expected to carry.
LIMITS = {"conversation_id": 255, "channel": 64, "topic": 100, "reason": 100}
MAX_PREVIEW = 1000
MAX_TRANSCRIPT_LINES = 200
MAX_LINE_CHARS = 5000
SPEAKERS = ("applicant", "assistant")
FIELDS = {*LIMITS, "preview", "transcript", "created_at"}
# A caller's clock may run a little ahead of the desk's; a handoff from further ahead is a bug.
MAX_CLOCK_SKEW_S = 300.0


def _text(body: Mapping[str, Any], name: str, limit: int, required: bool = True) -> str:
    value = body.get(name, None if required else "")
    if value is None and required:
        raise BadRequest(f"`{name}` is required.")
    if not isinstance(value, str):
        raise BadRequest(f"`{name}` must be a string.")
    value = value.strip()
    if required and not value:
        raise BadRequest(f"`{name}` is required.")
    if len(value) > limit:
        raise BadRequest(f"`{name}` can be at most {limit} characters.")
    return value


def _transcript(lines: Any) -> List[Dict[str, Any]]:
    if not isinstance(lines, list):
        raise BadRequest("`transcript` must be a list of {who, text, at}.")
    if len(lines) > MAX_TRANSCRIPT_LINES:
        raise BadRequest(f"`transcript` can have at most {MAX_TRANSCRIPT_LINES} lines.")
    found = []
    for number, line in enumerate(lines):
        where = f"`transcript[{number}]`"
        if not isinstance(line, dict) or line.get("who") not in SPEAKERS:
            raise BadRequest(f"{where} needs `who`: one of {', '.join(SPEAKERS)}.")
        text, at = line.get("text"), line.get("at")
        if not isinstance(text, str) or len(text) > MAX_LINE_CHARS:
            raise BadRequest(f"{where}.text must be a string of at most {MAX_LINE_CHARS} chars.")
        if at is not None and not _is_time(at):
            raise BadRequest(f"{where}.at must be seconds since 1970 or null.")
        found.append({"who": line["who"], "text": text, "at": at})
    return found


def _is_time(value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and math.isfinite(value) and value > 0


def new_handoff(body: Any, now: float) -> NewHandoff:
    """The handoff a POST /api/handoffs body describes, or BadRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BadRequest(f"Unknown fields: {', '.join(unknown)}.")
    created_at = body.get("created_at", now)
    if not _is_time(created_at) or created_at > now + MAX_CLOCK_SKEW_S:
        raise BadRequest("`created_at` must be seconds since 1970, not in the future.")
    return NewHandoff(
        sender_id=_text(body, "conversation_id", LIMITS["conversation_id"]),
        channel=_text(body, "channel", LIMITS["channel"]),
        topic=_text(body, "topic", LIMITS["topic"]),
        reason=_text(body, "reason", LIMITS["reason"]),
        preview=_text(body, "preview", MAX_PREVIEW, required=False),
        transcript=_transcript(body.get("transcript", [])),
        created_at=float(created_at),
    )


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # Sanic raises InvalidUsage for a body that is not JSON
        raise BadRequest("The body is not valid JSON.") from None


def register(app: Sanic, web: DeskWeb) -> None:
    """Add the service routes; a desk with no DESK_SERVICE_TOKEN refuses every call (401)."""
    desk, settings, clock = web.desk, web.settings, web.clock
    check = service_only(settings.service_token)

    def service(handler: Route) -> Route:
        # service_only's type says Awaitable; Sanic's routes want the coroutine function.
        return cast(Route, check(handler))

    notifier = HandoffNotifier(
        settings.notify_webhook_url, settings.public_url, settings.notify_timeout_s
    )

    @app.post("/api/handoffs")
    @service
    async def create_handoff(request: Request) -> HTTPResponse:
        try:
            handoff = new_handoff(_json_body(request), clock())
        except BadRequest as error:
            return response.json({"error": str(error)}, status=400)
        handoff_id = await desk.db(desk.store.create_handoff, handoff)
        notifier.handoff_created(handoff_id, handoff.topic, handoff.channel)
        asked = datetime.fromtimestamp(handoff.created_at, timezone.utc)
        promised = desk.office.promise(asked, settings.office.reply_minutes)
        return response.json(
            {"id": handoff_id, "promised_reply": promised},
            status=201,
            headers={"Location": f"/api/handoffs/{handoff_id}"},
        )

    @app.delete("/api/applicants/<conversation_id:str>")
    @service
    async def erase_applicant(request: Request, conversation_id: str) -> HTTPResponse:
        conversation_id = unquote(conversation_id)
        if not conversation_id.strip() or len(conversation_id) > LIMITS["conversation_id"]:
            return response.json(
                {"error": "The conversation id must have 1 to 255 characters."}, status=400
            )
        done = await desk.db(erase_sender, desk.store.engine, conversation_id, clock())
        # Counts only: the id is personal data, so it is not logged.
        logger.info(
            "privacy.erasure.desk handoffs_deleted=%d rows_deleted=%d",
            done.handoffs_deleted,
            done.rows_deleted,
        )
        return response.json(
            {"handoffs_erased": done.handoffs_deleted, "rows_erased": done.rows_deleted}
        )
