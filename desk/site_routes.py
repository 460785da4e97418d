"""The desk's plumbing: health checks and metrics, the static files, and the security
headers on every reply."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from desk.metrics import instrument as instrument_desk
from desk.pages import HERE, add_security_headers
from desk.web import DeskWeb

STATIC: Dict[str, Tuple[Path, str]] = {
    "desk.js": (HERE / "static" / "desk.js", "text/javascript"),
    "desk.css": (HERE / "static" / "desk.css", "text/css"),
}


def register(app: Sanic, web: DeskWeb) -> None:
    """Add /health, /health/live, /health/ready, /metrics and /static/<name>."""
    add_security_headers(app)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    # GET /health/live, /health/ready (the database answers) and /metrics (queue gauges).
    instrument_desk(app, web.desk.store.engine, web.clock)

    @app.get("/static/<name>")
    async def static(request: Request, name: str) -> HTTPResponse:
        if name not in STATIC:
            return response.text("Not found", status=404)
        path, content_type = STATIC[name]
        return response.text(path.read_text(encoding="utf-8"), content_type=content_type)
