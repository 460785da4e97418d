"""What every route module of the desk is given: the desk, its settings and clock, the page
renderer and the route guards. Each `*_routes.register(app, web)` adds one area's routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sanic.response import HTTPResponse

from desk.guards import Guards, Handler
from desk.pages import Pages
from desk.service import Desk
from desk.settings import DeskSettings


@dataclass(frozen=True)
class DeskWeb:
    desk: Desk
    settings: DeskSettings
    clock: Callable[[], float]
    pages: Pages
    guards: Guards

    def page(self, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        return self.pages.page(name, status, **context)

    def signed_in(self, handler: Handler) -> Handler:
        return self.guards.signed_in(handler)

    def api(self, handler: Handler) -> Handler:
        return self.guards.api(handler)
