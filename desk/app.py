"""The recruiter desk web application: sign-in, the queue, transcripts, and the JSON API.

Pages use a session cookie and a CSRF token on every form; the API uses bearer tokens.
Everything shown from applicants is untrusted and goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Coroutine, Dict

from jinja2 import Environment, FileSystemLoader, select_autoescape
from ruamel.yaml import YAML
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.auth import password_matches, same_secret
from desk.insights_routes import register as register_insights
from desk.live_qa_routes import register as register_live_qa
from desk.metrics import instrument as instrument_desk
from desk.office_hours import OfficeHours
from desk.rasa_api import DeliveryError, RasaApi
from desk.service import STATUSES_SHOWN, BadRequest, Conflict, Desk, NotFound
from desk.service_routes import register as register_service
from desk.settings import DeskSettings
from desk.sign_in_throttle import Limits, SignInThrottle
from desk.storage import CLAIMED, CLOSED, WAITING, Store, migrate
from desk.training_routes import register as register_training

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "desk_session"
LOGIN_CSRF_COOKIE = "desk_login_csrf"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATIC = {
    "desk.js": (HERE / "static" / "desk.js", "text/javascript"),
    "desk.css": (HERE / "static" / "desk.css", "text/css"),
}
_app_numbers = itertools.count(1)
# How long shutdown waits for a holding-message round in progress.
HOLDING_STOP_WAIT_S = 10.0

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def create_app(
    settings: DeskSettings,
    clock: Callable[[], float] = time.time,
    run_migrations: bool = True,
) -> Sanic:
    """Build the desk; tests pass their own settings and clock."""
    if run_migrations:
        migrate(settings.database_url)
    store = Store(settings.database_url)
    desk = Desk(
        store=store,
        rasa=RasaApi(
            settings.rasa_url,
            settings.rasa_token,
            settings.rasa_timeout_seconds,
            jwt_secret=settings.rasa_jwt_secret,
        ),
        office=OfficeHours.from_settings(settings.office),
        clock=clock,
        holding_after_s=settings.holding_after_minutes * 60,
    )
    throttle = SignInThrottle(
        store.engine,
        Limits(
            per_address_and_account=settings.max_failed_logins,
            per_address=settings.max_failed_logins_per_address,
            per_account=settings.max_failed_logins_per_account,
            lockout_s=settings.lockout_minutes * 60,
        ),
    )
    saved_replies = _saved_replies(settings.saved_replies_file)
    templates = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    templates.filters["when"] = _format_time
    app = Sanic(f"recruiter_desk_{next(_app_numbers)}")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    # Behind a proxy, the client's address from X-Forwarded-For (request.remote_addr).
    app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.desk = desk

    def page(name: str, status: int = 200, **context: Any) -> HTTPResponse:
        return response.html(templates.get_template(name).render(**context), status=status)

    def set_cookie(reply: HTTPResponse, name: str, value: str, max_age: int) -> None:
        reply.cookies[name] = value
        cookie = reply.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["secure"] = settings.cookie_secure
        cookie["path"] = "/"
        cookie["max-age"] = max_age

    async def session_of(request: Request) -> Dict[str, Any] | None:
        secret = request.cookies.get(SESSION_COOKIE)
        if not secret:
            return None
        return await desk.db(store.session, secret, clock())

    def signed_in(handler: Handler) -> Handler:
        """Pages: sign-in first (redirect, or 401 for anything but a page view), then CSRF."""

        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = await session_of(request)
            if session is None:
                if request.method == "GET" and not request.path.endswith(".json"):
                    return response.redirect("/login")
                return response.text("Sign in first.", status=401)
            if request.method == "POST" and not same_secret(
                (request.form or {}).get("csrf"), session["csrf_token"]
            ):
                return response.text("Forged or expired form (CSRF check failed).", status=403)
            request.ctx.session = session
            return await handler(request, *args, **kwargs)

        wrapped.__name__ = handler.__name__
        return wrapped

    def api(handler: Handler) -> Handler:
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            header = request.headers.get("authorization", "")
            scheme, _, secret = header.partition(" ")
            user = None
            if scheme.lower() == "bearer" and secret.strip():
                user = await desk.db(store.token_user, secret.strip(), clock())
            if user is None:
                return response.json(
                    {"error": "A valid bearer token is needed (python -m desk create-token)."},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.ctx.user = user
            try:
                return await handler(request, *args, **kwargs)
            except NotFound as error:
                return response.json({"error": str(error)}, status=404)
            except Conflict as error:
                return response.json({"error": str(error)}, status=409)
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)
            except DeliveryError as error:
                return response.json({"error": f"Not delivered: {error}"}, status=502)

        wrapped.__name__ = handler.__name__
        return wrapped

    @app.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            reply.headers.setdefault(name, value)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    # GET /health/live, /health/ready (the database answers) and /metrics (queue gauges).
    instrument_desk(app, store.engine, clock)

    @app.get("/static/<name>")
    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in STATIC:
            return response.text("Not found", status=404)
        path, content_type = STATIC[name]
        return response.text(path.read_text(encoding="utf-8"), content_type=content_type)

    # Sign-in

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        return login_page()

    def login_page(error: str = "", status: int = 200) -> HTTPResponse:
        token = secrets.token_urlsafe(32)
        reply = page("login.html", status=status, csrf=token, error=error)
        set_cookie(reply, LOGIN_CSRF_COOKIE, token, 3600)
        return reply

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        form = request.form or {}
        if not same_secret(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return response.text("Forged or expired form (CSRF check failed).", status=403)
        name = (form.get("name") or "").strip()
        password = form.get("password") or ""
        now = clock()
        address = str(request.remote_addr or request.ip)
        user = await desk.db(store.user, name) if name else None
        refused = await desk.db(throttle.refusal, address, name, user, now)
        if refused is not None:
            minutes = max(1, round(refused.seconds_left / 60))
            if refused.whole_account:
                why = (
                    "this account is locked for computers it has not been used from. Try "
                    f"again in {minutes} minutes, or from a computer you have signed in from."
                )
            else:
                why = f"signing in from here is locked. Try again in {minutes} minutes."
            return login_page(f"Too many failed sign-ins: {why}", status=429)
        matched = password_matches(user["password_hash"] if user else None, password)
        if user is None or not matched:
            user_id = user["id"] if user else None
            if await desk.db(throttle.failed, address, name, user_id, now):
                await desk.db(store.record, name, "locked out", None, "new addresses", now)
            return login_page("Wrong name or password.", status=401)
        await desk.db(throttle.succeeded, address, name, user["id"], now)
        lifetime = int(settings.session_hours * 3600)
        secret, _ = await desk.db(store.create_session, user["id"], now, now + lifetime)
        await desk.db(store.record, name, "signed in", None, "", now)
        reply = response.redirect("/")
        set_cookie(reply, SESSION_COOKIE, secret, lifetime)
        del reply.cookies[LOGIN_CSRF_COOKIE]
        return reply

    @app.post("/logout")
    @signed_in
    async def logout(request: Request) -> HTTPResponse:
        await desk.db(store.end_session, request.cookies.get(SESSION_COOKIE))
        reply = response.redirect("/login")
        del reply.cookies[SESSION_COOKIE]
        return reply

    # Pages

    @app.get("/")
    @signed_in
    async def queue(request: Request) -> HTTPResponse:
        lists = {status: await desk.db(store.list_handoffs, status) for status in STATUSES_SHOWN}
        return page(
            "queue.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            waiting=lists[WAITING],
            claimed=lists[CLAIMED],
            closed=lists[CLOSED][:50],
            now=clock(),
        )

    @app.get("/handoffs/<handoff_id:int>")
    @signed_in
    async def handoff_page(request: Request, handoff_id: int) -> HTTPResponse:
        try:
            handoff = await desk.handoff(handoff_id)
        except NotFound as error:
            return response.text(str(error), status=404)
        return page(
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

    def form_text(request: Request) -> str:
        return (request.form or {}).get("text") or ""

    @app.post("/handoffs/<handoff_id:int>/claim")
    @signed_in
    async def claim_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.claim(handoff_id, me))

    @app.post("/handoffs/<handoff_id:int>/reply")
    @signed_in
    async def reply_form(request: Request, handoff_id: int) -> HTTPResponse:
        text = form_text(request)
        return await act(request, handoff_id, lambda me: desk.reply(handoff_id, me, text))

    @app.post("/handoffs/<handoff_id:int>/note")
    @signed_in
    async def note_form(request: Request, handoff_id: int) -> HTTPResponse:
        text = form_text(request)
        return await act(request, handoff_id, lambda me: desk.note(handoff_id, me, text))

    @app.post("/handoffs/<handoff_id:int>/release")
    @signed_in
    async def release_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.release(handoff_id, me))

    @app.post("/handoffs/<handoff_id:int>/close")
    @signed_in
    async def close_form(request: Request, handoff_id: int) -> HTTPResponse:
        return await act(request, handoff_id, lambda me: desk.close(handoff_id, me))

    @app.get("/audit")
    @signed_in
    async def audit_page(request: Request) -> HTTPResponse:
        return page(
            "audit.html",
            me=request.ctx.session["name"],
            csrf=request.ctx.session["csrf_token"],
            entries=await desk.db(store.audit_log),
        )

    # The trainers' Training page and "flag for training" (desk/training_routes.py).
    register_training(app, desk, templates, page, signed_in, clock)
    # The Insights page, its CSV and GET /api/insights (desk/insights_routes.py).
    register_insights(app, desk, page, signed_in, api, clock)
    # POST /api/handoffs and DELETE /api/applicants/<id>, for the action server.
    register_service(app, desk, settings, clock)
    register_live_qa(app, desk, page, signed_in, settings, clock)

    # JSON API

    @app.get("/api/handoffs")
    @api
    async def api_list(request: Request) -> HTTPResponse:
        status = request.args.get("status", WAITING)
        if status not in STATUSES_SHOWN:
            raise BadRequest(f"status must be one of {', '.join(STATUSES_SHOWN)}.")
        found = await desk.db(store.list_handoffs, status)
        return response.json({"handoffs": [_summary(handoff) for handoff in found]})

    @app.get("/api/handoffs/<handoff_id:int>")
    @api
    async def api_get(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await desk.handoff(handoff_id)
        transcript = await desk.transcript(handoff)
        return response.json({**_summary(handoff), "transcript": transcript["entries"]})

    @app.post("/api/handoffs/<handoff_id:int>/claim")
    @api
    async def api_claim(request: Request, handoff_id: int) -> HTTPResponse:
        return response.json(_summary(await desk.claim(handoff_id, request.ctx.user)))

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
        return response.json(_summary(await desk.handoff(handoff_id)))

    @app.post("/api/handoffs/<handoff_id:int>/close")
    @api
    async def api_close(request: Request, handoff_id: int) -> HTTPResponse:
        await desk.close(handoff_id, request.ctx.user)
        return response.json(_summary(await desk.handoff(handoff_id)))

    # Holding messages: a background loop that stops between rounds when the server stops,
    # so shutdown never leaves a pending task behind or cuts a round off half-way.

    async def holding_loop(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await desk.send_holding_messages()
            except Exception:
                logger.exception("holding messages failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), settings.holding_check_seconds)

    async def start_holding(app: Sanic, loop: Any) -> None:
        app.ctx.holding_stopping = asyncio.Event()
        app.ctx.holding = loop.create_task(holding_loop(app.ctx.holding_stopping))

    async def stop_holding(app: Sanic, loop: Any) -> None:
        task = getattr(app.ctx, "holding", None)
        if task is None:
            return
        app.ctx.holding_stopping.set()
        try:
            # On timeout wait_for cancels the round and waits until it has stopped.
            await asyncio.wait_for(task, HOLDING_STOP_WAIT_S)
        except asyncio.TimeoutError:
            logger.warning("holding messages: the last round was cut short by shutdown")

    app.register_listener(start_holding, "after_server_start")
    app.register_listener(stop_holding, "before_server_stop")

    return app


def _summary(handoff: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in handoff.items() if key != "transcript"}


def _saved_replies(path: Path) -> list:
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


def _format_time(epoch: float | None) -> str:
    if not epoch:
        return ""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    moment = datetime.fromtimestamp(epoch, timezone.utc).astimezone(ZoneInfo("Europe/London"))
    return moment.strftime("%a %d %b %H:%M")
