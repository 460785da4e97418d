"""`make run`, `make run-prod` and `make shell`: the assistant on this machine, stopped
cleanly by Ctrl-C.

`--production` runs the production set-up (endpoints.prod.yml, credentials.prod.yml) against
this machine's PostgreSQL and Redis: DB_* and REDIS_* variables say where (see
scripts/production.py), the database is created if missing, and RASA_JWT_SECRET is
generated into var/ when it is unset. Both set-ups take ACTION_SERVER_SECRET and
DESK_SERVICE_TOKEN, else ones generated once into var/action_server_secret and
var/desk_service_token, and pass every secret in the processes' environment, never on their
command lines.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from scripts.stack import ROOT, Stack, dev_secret, quiet_env

INSTAGRAM_SECRETS = ("INSTAGRAM_VERIFY_TOKEN", "INSTAGRAM_APP_SECRET", "INSTAGRAM_ACCESS_TOKEN")


def credentials_for_run(base: Path = ROOT / "credentials.yml") -> tuple[Path, bool]:
    """The credentials file, plus the Instagram channel when its secrets are set."""
    if not all(os.environ.get(name) for name in INSTAGRAM_SECRETS):
        return base, False
    path = ROOT / "var" / f"{base.stem}.run.yml"
    text = base.read_text(encoding="utf-8")
    path.write_text(text + "\nchannels.instagram.InstagramInput:\n", encoding="utf-8")
    return path, True


def production_stack() -> tuple[Stack, bool]:
    """The production set-up on this machine, after saying what it uses."""
    import redis
    from sqlalchemy.exc import OperationalError

    from scripts.production import CREDENTIALS, ENDPOINTS, ProductionServices, ensure_database

    services = ProductionServices.from_env()
    try:
        created = ensure_database(services)
    except OperationalError as error:
        raise SystemExit(
            f"Cannot reach PostgreSQL at {services.db_host}:{services.db_port} "
            f"(set DB_HOST, DB_PORT, DB_USER, DB_PASSWORD): {error.orig}"
        ) from None
    try:
        redis.Redis(
            host=services.redis_host,
            port=services.redis_port,
            db=services.redis_db,
            password=services.redis_password or None,
            socket_connect_timeout=5,
        ).ping()
    except redis.RedisError as error:
        raise SystemExit(
            f"Cannot reach Redis at {services.redis_host}:{services.redis_port} "
            f"(set REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD): {error}"
        ) from None
    jwt_secret, jwt_source = dev_secret("RASA_JWT_SECRET")
    action_secret, action_source = dev_secret("ACTION_SERVER_SECRET")
    desk_token, desk_source = dev_secret("DESK_SERVICE_TOKEN")
    credentials, instagram = credentials_for_run(CREDENTIALS)
    print(
        "Production set-up (endpoints.prod.yml):\n"
        + services.describe()
        + (f"\n  Database {services.db_name} did not exist: created it." if created else "")
        + f"\n  HTTP API JWT secret: {jwt_source}\n"
        f"  Action server secret: {action_source}\n"
        f"  Desk service token: {desk_source}\n",
        flush=True,
    )
    stack = Stack(
        token="",
        endpoints=ENDPOINTS,
        credentials=credentials,
        env=services.env(),
        jwt_secret=jwt_secret,
        action_secret=action_secret,
        desk_token=desk_token,
    )
    return stack, instagram


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shell", action="store_true", help="chat in the terminal instead")
    parser.add_argument(
        "--production",
        action="store_true",
        help="PostgreSQL, Redis, JWT and the action server secret (endpoints.prod.yml)",
    )
    args = parser.parse_args()
    if args.shell and args.production:
        parser.error("--shell runs the embedded set-up only")
    (ROOT / "var").mkdir(exist_ok=True)
    if args.production:
        stack, instagram = production_stack()
    else:
        credentials, instagram = credentials_for_run()
        action_secret, _ = dev_secret("ACTION_SERVER_SECRET")
        desk_token, _ = dev_secret("DESK_SERVICE_TOKEN")
        stack = Stack(credentials=credentials, action_secret=action_secret, desk_token=desk_token)
    # Ctrl-C (or SIGINT to the process group) stops everything in order, also when started
    # from a shell that hands background jobs SIGINT ignored (Rasa's servers stop on it anyway).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        if args.shell:
            stack.start_action_server()
            stack.start_desk()  # handoffs and erasures go through it
            return subprocess.call(
                [
                    sys.executable, "-m", "rasa_server", "shell",
                    "--model", "models", "--endpoints", "endpoints.yml",
                ],
                cwd=ROOT,
                env={**quiet_env(), "ACTION_SERVER_SECRET": stack.action_secret},
            )  # fmt: skip
        print(
            "Starting the action server, the Rasa server and the recruiter desk "
            "(loading the model takes a moment)..."
        )
        stack.start()
        print(running_message(stack, args.production, instagram), flush=True)
        while all(process.poll() is None for process in stack.processes):
            time.sleep(1)
        print("A server stopped unexpectedly; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...")
        return 0
    finally:
        stack.stop()


def running_message(stack: Stack, production: bool, instagram: bool) -> str:
    if production:
        web_chat = "off (production channels: credentials.prod.yml)"
        api = (
            f"{stack.url} (JWT: Authorization: Bearer, HS256 with RASA_JWT_SECRET, "
            'payload {"user": {"username": ..., "role": "admin"}})'
        )
        desk_user = f"DESK_DATABASE_URL={stack.env['DESK_DATABASE_URL']} "
    else:
        web_chat = stack.webchat_url
        api = f"{stack.url} (token in RASA_TOKEN, or in var/rasa_token)"
        desk_user = ""
    rest = f"POST {stack.url}/webhooks/rest/webhook " + '{"sender": "me", "message": "hello"}'
    if os.environ.get("REST_CHANNEL_TOKEN"):
        rest += " with Authorization: Bearer $REST_CHANNEL_TOKEN"
    elif production:
        rest = "off (set REST_CHANNEL_TOKEN to enable it)"
    else:
        rest += " (from this machine only)"
    instagram_line = (
        f"webhook at {stack.url}/webhooks/instagram/webhook"
        if instagram
        else "off (set INSTAGRAM_VERIFY_TOKEN, INSTAGRAM_APP_SECRET and "
        "INSTAGRAM_ACCESS_TOKEN to enable it)"
    )
    return (
        "\nThe careers assistant is running.\n"
        f"  Web chat:      {web_chat}\n"
        f"  REST channel:  {rest}\n"
        f"  HTTP API:      {api}\n"
        f"  Recruiter desk: {stack.desk_url}/ (add an account first: "
        f"{desk_user}.venv/bin/python -m desk create-user NAME)\n"
        f"  Instagram:     {instagram_line}\n"
        "Press Ctrl-C to stop.\n"
    )


def _stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
