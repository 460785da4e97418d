"""The action server's health, metrics and error replies, added with one call:

    app = rasa_sdk.endpoint.create_app("actions")
    observability.action_server.instrument(app)

Readiness: every custom action the domain names is registered (rasa-sdk only logs an
import error in the actions package and then serves 404s; this makes that visible). The
error handler replaces rasa-sdk's, which sends the whole request back in a 500 (the
tracker, with the applicant's messages) for the Rasa server to log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import FrozenSet

from rasa_sdk.executor import ActionExecutor
from ruamel.yaml import YAML
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from observability.endpoints import Check, install

logger = logging.getLogger(__name__)

DOMAIN = Path(__file__).resolve().parent.parent / "domain.yml"


class MissingActions(RuntimeError):
    """Custom actions the domain names that the action server did not register."""


def domain_actions(domain: Path = DOMAIN) -> FrozenSet[str]:
    """The custom actions domain.yml lists (empty when the file is not shipped with the image)."""
    try:
        document = YAML(typ="safe").load(domain.read_text(encoding="utf-8")) or {}
    except OSError:
        return frozenset()
    return frozenset(
        str(name) for name in document.get("actions") or [] if str(name).startswith("action_")
    )


def actions_check(package: str = "actions", domain: Path = DOMAIN) -> Check:
    """Registered once, at start-up, the way rasa-sdk registers them; checked on each call."""
    executor = ActionExecutor()
    executor.register_package(package)
    registered = frozenset(executor.actions)
    expected = domain_actions(domain)
    missing = sorted(expected - registered) if expected else ([] if registered else ["any"])

    async def check() -> None:
        if missing:
            raise MissingActions(", ".join(missing))

    return check


async def _safe_error(request: Request, exception: Exception) -> HTTPResponse:
    # The traceback names code, not content; the request body holds the conversation.
    logger.error("action server error on %s %s", request.method, request.path, exc_info=exception)
    return response.json({"error": f"the action failed ({type(exception).__name__})"}, 500)


def instrument(app: Sanic, package: str = "actions") -> None:
    """GET /health/live, /health/ready and /metrics, and errors that carry no message text."""
    install(app, "actions", {"actions": actions_check(package)})
    app.error_handler.add(Exception, _safe_error)
