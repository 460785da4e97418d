"""The real Rasa server and action server with the Instagram channel enabled.

Started through scripts.stack (as `make run` does), with a credentials file that enables
the REST, socket.io and Instagram channels, secrets in environment variables, and the Graph API
address pointing at a local stand-in. Used by the end-to-end tests and the benchmark.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, Tuple

from scripts.stack import Stack, action_endpoint_yaml, free_port


@dataclass(frozen=True)
class Secrets:
    verify_token: str = field(default_factory=lambda: "verify-" + secrets.token_urlsafe(12))
    app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    access_token: str = field(default_factory=lambda: "IGAA" + secrets.token_urlsafe(32))


CREDENTIALS = (
    "channels.reliable_rest.ReliableRestInput:\n"
    "channels.socketio.WebChatSocketIOInput:\n"
    "channels.instagram.InstagramInput:\n"
    "rasa_server.ops.OpsInput:\n"
)


@contextmanager
def rasa_with_instagram(
    model: Path,
    graph_url: str,
    keys: Secrets,
    workdir: Path,
    graph_version: str = "v25.0",
    extra_env: Dict[str, str] | None = None,
    desk: Tuple[int, str] | None = None,
) -> Iterator[Stack]:
    """Both servers on free ports, a fresh tracker store in ``workdir``; logs in servers.log.

    ``desk``: the port and service token of a desk stand-in to use instead of starting the
    real desk (Stack passes DESK_URL and DESK_SERVICE_TOKEN to every process itself)."""
    action_port = free_port()
    credentials = workdir / "credentials.yml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        action_endpoint_yaml(action_port)
        + f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{workdir}/tracker.db"\n',
        encoding="utf-8",
    )
    env = {
        "INSTAGRAM_VERIFY_TOKEN": keys.verify_token,
        "INSTAGRAM_APP_SECRET": keys.app_secret,
        "INSTAGRAM_ACCESS_TOKEN": keys.access_token,
        "INSTAGRAM_GRAPH_URL": graph_url,
        "INSTAGRAM_GRAPH_VERSION": graph_version,
        # The desk's tables beside the conversations, never in var/.
        "DESK_DATABASE_URL": f"sqlite:///{workdir}/tracker.db",
        **(extra_env or {}),
    }
    log_path = workdir / "servers.log"
    with open(log_path, "wb") as log:
        stack = Stack(
            rasa_port=free_port(),
            action_port=action_port,
            token="instagram-test-token",
            endpoints=endpoints,
            credentials=credentials,
            model=model,
            log=log,
            env=env,
            desk_port=desk[0] if desk else free_port(),
            own_desk=desk is None,
        )
        if desk:
            stack.desk_token = desk[1]
        with stack.running(timeout=300):
            yield stack
