"""Rendering the desk's HTML pages: the Jinja2 templates, session cookies and the security
headers every reply carries. Everything shown from applicants is untrusted, hence autoescaping."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

HERE = Path(__file__).resolve().parent
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
OFFICE_ZONE = ZoneInfo("Europe/London")


class Pages:
    """The templates, and cookies set the same way on every page (HttpOnly, SameSite=Strict)."""

    def __init__(self, cookie_secure: bool, templates_dir: Path = HERE / "templates") -> None:
        self.cookie_secure = cookie_secure
        self.templates = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.templates.filters["when"] = format_time

    def page(self, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        """The template `name` rendered with `context`, as an HTML reply."""
        return response.html(self.templates.get_template(name).render(**context), status=status)

    def set_cookie(self, reply: HTTPResponse, name: str, value: str, max_age: int) -> None:
        reply.cookies[name] = value
        cookie = reply.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["secure"] = self.cookie_secure
        cookie["path"] = "/"
        cookie["max-age"] = max_age


def add_security_headers(app: Sanic) -> None:
    """Every reply, pages and API alike, gets SECURITY_HEADERS unless a route set its own."""

    @app.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            reply.headers.setdefault(name, value)


def format_time(epoch: float | None) -> str:
    """A time as the office reads it, e.g. "Mon 07 Dec 09:30"; blank for none."""
    if not epoch:
        return ""
    moment = datetime.fromtimestamp(epoch, timezone.utc).astimezone(OFFICE_ZONE)
    return moment.strftime("%a %d %b %H:%M")
