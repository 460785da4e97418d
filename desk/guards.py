"""Who may use a route: `signed_in` for the pages (session cookie, then CSRF on forms) and
`api` for the recruiters' JSON API (bearer tokens, with the desk's errors as JSON statuses)."""

from __future__ import annotations

from typing import Any, Callable, Coroutine, Dict

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.auth import same_secret
from desk.rasa_api import DeliveryError
from desk.service import BadRequest, Conflict, Desk, NotFound

SESSION_COOKIE = "desk_session"

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


class Guards:
    """The route decorators, checking sessions and tokens in the desk's store."""

    def __init__(self, desk: Desk, clock: Callable[[], float]) -> None:
        self.desk = desk
        self.clock = clock

    async def session_of(self, request: Request) -> Dict[str, Any] | None:
        """The signed-in session the request's cookie names, or None."""
        secret = request.cookies.get(SESSION_COOKIE)
        if not secret:
            return None
        return await self.desk.db(self.desk.store.session, secret, self.clock())

    def signed_in(self, handler: Handler) -> Handler:
        """Pages: sign-in first (redirect, or 401 for anything but a page view), then CSRF."""

        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            session = await self.session_of(request)
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

    def api(self, handler: Handler) -> Handler:
        """The JSON API: a recruiter's bearer token; the desk's refusals as 4xx/502 JSON."""

        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            user = await self._token_user(request)
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

    async def _token_user(self, request: Request) -> Any:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return await self.desk.db(self.desk.store.token_user, secret.strip(), self.clock())
