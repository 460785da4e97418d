"""Signing in and out of the desk: the login form (its own CSRF cookie), the throttle on
failed attempts, and the session cookie."""

from __future__ import annotations

import secrets

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.auth import password_matches, same_secret
from desk.guards import SESSION_COOKIE
from desk.sign_in_throttle import Limits, Refusal, SignInThrottle
from desk.web import DeskWeb

LOGIN_CSRF_COOKIE = "desk_login_csrf"


def register(app: Sanic, web: DeskWeb) -> None:
    """Add GET/POST /login and POST /logout."""
    desk, store, settings, clock = web.desk, web.desk.store, web.settings, web.clock
    throttle = SignInThrottle(
        store.engine,
        Limits(
            per_address_and_account=settings.max_failed_logins,
            per_address=settings.max_failed_logins_per_address,
            per_account=settings.max_failed_logins_per_account,
            lockout_s=settings.lockout_minutes * 60,
        ),
    )

    def login_page(error: str = "", status: int = 200) -> HTTPResponse:
        token = secrets.token_urlsafe(32)
        reply = web.page("login.html", status=status, csrf=token, error=error)
        web.pages.set_cookie(reply, LOGIN_CSRF_COOKIE, token, 3600)
        return reply

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        return login_page()

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
            return login_page(f"Too many failed sign-ins: {_why(refused)}", status=429)
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
        web.pages.set_cookie(reply, SESSION_COOKIE, secret, lifetime)
        del reply.cookies[LOGIN_CSRF_COOKIE]
        return reply

    @app.post("/logout")
    @web.signed_in
    async def logout(request: Request) -> HTTPResponse:
        await desk.db(store.end_session, request.cookies.get(SESSION_COOKIE))
        reply = response.redirect("/login")
        del reply.cookies[SESSION_COOKIE]
        return reply


def _why(refused: Refusal) -> str:
    minutes = max(1, round(refused.seconds_left / 60))
    if refused.whole_account:
        return (
            "this account is locked for computers it has not been used from. Try "
            f"again in {minutes} minutes, or from a computer you have signed in from."
        )
    return f"signing in from here is locked. Try again in {minutes} minutes."
