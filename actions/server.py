"""The action server: rasa-sdk's app, which refuses calls without the shared secret.

`python -m actions.server [--host 127.0.0.1] [--port 5055]`. Every request except the health
and metrics endpoints (which Kubernetes probes and Prometheus call without secrets) must carry
ACTION_SERVER_SECRET in the `X-Action-Secret` header, which the Rasa servers send
(`action_endpoint: headers:` in endpoints.yml and endpoints.prod.yml); anything else gets 401.
The secret is required everywhere, `make run` included (which generates one into var/ when
it is unset): without it anyone who can reach the port could run the hand-over or the
erasure for any conversation. The server refuses to start without it.

It listens on ACTION_SERVER_HOST (or `--host`), 127.0.0.1 unless set: only the Rasa server
on the same machine calls it. A container sets 0.0.0.0 (deploy/).

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
from privacy.tracebacks import install_traceback_redaction

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Action-Secret"
SECRET_VARIABLE = "ACTION_SERVER_SECRET"
PREVIOUS_SECRET_VARIABLE = "ACTION_SERVER_PREVIOUS_SECRET"
HOST_VARIABLE = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
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
    if not secret:
        raise SecretSettingsError(
            f"{SECRET_VARIABLE} is not set: the action server needs it, so that only the Rasa "
            "server can run actions. `make run` generates one into var/action_server_secret; "
            "elsewhere set it for both the action server and the Rasa server "
            "(docs/operations.md)."
        )
    require_secret(app, secret, previous_secret or "")
    logger.info(
        "Action server: calls need the %s header (%s is set).", SECRET_HEADER, SECRET_VARIABLE
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host",
        default=os.environ.get(HOST_VARIABLE) or DEFAULT_HOST,
        help=f"address to listen on (default {HOST_VARIABLE}, else {DEFAULT_HOST})",
    )
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package the actions are in")
    args = parser.parse_args(argv)
    utils.configure_colored_logging(None)
    install_traceback_redaction()  # no applicant text in tracebacks (docs/privacy.md)
    utils.update_sanic_log_level()
    try:
        app = build_app(
            args.actions,
            os.environ.get(SECRET_VARIABLE) or None,
            os.environ.get(PREVIOUS_SECRET_VARIABLE) or None,
        )
    except SecretSettingsError as error:
        raise SystemExit(str(error)) from None
    logger.info("Action server listening on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
