"""Service-to-service calls into the desk: the action server and the Instagram channel.

They are not recruiters, so they do not hold a recruiter's API token: they send the shared
service token (`DESK_SERVICE_TOKEN`; `make run` generates one into var/desk_service_token) as
`Authorization: Bearer <token>`. With no token configured every service call is refused, so
a forgotten setting fails closed.
"""

from __future__ import annotations

import hmac
import os
from typing import Any, Awaitable, Callable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_VARIABLE = "DESK_SERVICE_TOKEN"

Handler = Callable[..., Awaitable[HTTPResponse]]


def service_token() -> str:
    return os.environ.get(TOKEN_VARIABLE, "").strip()


def is_service_call(request: Request, token: str) -> bool:
    """Constant-time check of the bearer token against the configured service token."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(secret.strip().encode(), token.encode())


def service_only(token: str) -> Callable[[Handler], Handler]:
    """Route decorator: 401 unless the caller sends the service token."""

    def decorate(handler: Handler) -> Handler:
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if not is_service_call(request, token):
                return response.json(
                    {"error": f"A valid service token is needed ({TOKEN_VARIABLE})."},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await handler(request, *args, **kwargs)

        wrapped.__name__ = handler.__name__
        return wrapped

    return decorate
