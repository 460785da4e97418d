"""The recruiter desk web application: which routes it has, in which module.

Pages use a session cookie and a CSRF token on every form (desk/guards.py); the API uses
bearer tokens. Everything shown from applicants is untrusted and goes through Jinja2's
autoescaping (desk/pages.py).
"""

from __future__ import annotations

import itertools
import time
from typing import Callable

from sanic import Sanic

from desk import (
    api_routes,
    holding_loop,
    insights_routes,
    live_qa_routes,
    queue_routes,
    service_routes,
    sign_in_routes,
    site_routes,
    training_routes,
)
from desk.guards import Guards
from desk.office_hours import OfficeHours
from desk.pages import Pages
from desk.rasa_api import RasaApi
from desk.service import Desk
from desk.settings import DeskSettings
from desk.storage import Store, migrate
from desk.web import DeskWeb

_app_numbers = itertools.count(1)


def create_app(
    settings: DeskSettings,
    clock: Callable[[], float] = time.time,
    run_migrations: bool = True,
) -> Sanic:
    """Build the desk; tests pass their own settings and clock."""
    if run_migrations:
        migrate(settings.database_url)
    desk = build_desk(settings, clock)
    web = DeskWeb(desk, settings, clock, Pages(settings.cookie_secure), Guards(desk, clock))
    app = Sanic(f"recruiter_desk_{next(_app_numbers)}")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    # Behind a proxy, the client's address from X-Forwarded-For (request.remote_addr).
    app.config.PROXIES_COUNT = settings.proxies_count
    app.ctx.desk = desk

    site_routes.register(app, web)  # /health, /metrics, /static, security headers
    sign_in_routes.register(app, web)  # /login, /logout
    queue_routes.register(app, web)  # the queue, handoff pages and their forms, /audit
    training_routes.register(app, web)  # /training and "flag for training"
    insights_routes.register(app, web)  # /insights, its CSV and GET /api/insights
    service_routes.register(app, web)  # POST /api/handoffs, DELETE /api/applicants/<id>
    live_qa_routes.register(app, web)  # /live-qa and POST /api/live-questions
    api_routes.register(app, web)  # the recruiters' JSON API under /api/handoffs
    holding_loop.register(app, web)  # holding messages while nobody has replied
    return app


def build_desk(settings: DeskSettings, clock: Callable[[], float]) -> Desk:
    """The desk's service layer over its database and the Rasa server's API."""
    rasa = RasaApi(
        settings.rasa_url,
        settings.rasa_token,
        settings.rasa_timeout_seconds,
        jwt_secret=settings.rasa_jwt_secret,
    )
    return Desk(
        store=Store(settings.database_url),
        rasa=rasa,
        office=OfficeHours.from_settings(settings.office),
        clock=clock,
        holding_after_s=settings.holding_after_minutes * 60,
    )
