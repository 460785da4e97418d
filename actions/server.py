"""The action server: rasa-sdk's app, which refuses calls without the shared secret.

`python -m actions.server --port 5055`. When ACTION_SERVER_SECRET is set, every request
except the health and metrics endpoints (which Kubernetes probes and Prometheus call without
secrets) must carry it in the `X-Action-Secret` header, which the Rasa servers send
(`action_endpoint: headers:` in endpoints.prod.yml); anything else gets 401. Unset, the
server is open, as `make run` needs on one machine; it says so when it starts.

To rotate the secret without refusing a call, ACTION_SERVER_PREVIOUS_SECRET is accepted too
while the Rasa servers still send it (docs/operations.md, "Rotating secrets").
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from observability.action_server import instrument

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Action-Secret"
SECRET_VARIABLE = "ACTION_SERVER_SECRET"
PREVIOUS_SECRET_VARIABLE = "ACTION_SERVER_PREVIOUS_SECRET"
OPEN_PATHS = ("/health", "/metrics")


def is_open(path: str) -> bool:
    return any(path == open_path or path.startswith(open_path + "/") for open_path in OPEN_PATHS)


def require_secret(app: Sanic, *secrets: str) -> None:
    """Refuse calls that carry none of `secrets` (the current one, and the previous one while
    it is being rotated out)."""
    accepted = [secret.encode("utf-8") for secret in secrets if secret]

    @app.middleware("request")
    async def check_secret(request: Request) -> HTTPResponse | None:
        if is_open(request.path):
            return None
        provided = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        # Every secret is compared, so the time taken says nothing about which one matched.
        matches = [hmac.compare_digest(provided, secret) for secret in accepted]
        if any(matches):
            return None
        logger.warning(
            "Refused %s %s: no valid %s header.", request.method, request.path, SECRET_HEADER
        )
        return response.json({"error": f"missing or wrong {SECRET_HEADER} header"}, status=401)


class SecretSettingsError(ValueError):
    """The secret variables cannot be used as they are set."""


def build_app(
    actions: str = "actions", secret: str | None = None, previous_secret: str | None = None
) -> Sanic:
    # No CORS: only the Rasa servers call this, never a browser.
    app = create_app(actions, cors_origins=None)
    instrument(
        app, actions
    )  # /health/live, /health/ready, /metrics, and an error reply without data
    if previous_secret and not secret:
        raise SecretSettingsError(
            f"{PREVIOUS_SECRET_VARIABLE} is set but {SECRET_VARIABLE} is not: set the new "
            f"secret in {SECRET_VARIABLE} and keep the old one in {PREVIOUS_SECRET_VARIABLE}."
        )
    if secret:
        require_secret(app, secret, previous_secret or "")
        logger.info(
            "Action server: calls need the %s header (%s is set).", SECRET_HEADER, SECRET_VARIABLE
        )
    else:
        logger.warning(
            "Action server: %s is not set, so anyone who can reach this port can run actions. "
            "Fine for `make run` on one machine; set it in production.",
            SECRET_VARIABLE,
        )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package the actions are in")
    args = parser.parse_args(argv)
    utils.configure_colored_logging(None)
    utils.update_sanic_log_level()
    try:
        app = build_app(
            args.actions,
            os.environ.get(SECRET_VARIABLE) or None,
            os.environ.get(PREVIOUS_SECRET_VARIABLE) or None,
        )
    except SecretSettingsError as error:
        raise SystemExit(str(error)) from None
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logger.info("Action server listening on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
