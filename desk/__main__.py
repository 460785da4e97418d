"""`python -m desk`: run the recruiter desk and manage its accounts.

python -m desk migrate               bring the desk's tables up to date
python -m desk create-user NAME      add a recruiter (password from a prompt or stdin)
    [--role trainer]                 ... or a trainer, who also sees the Training page
python -m desk set-password NAME     change a recruiter's password, unlocking the account
python -m desk create-token NAME     print a new API token for NAME, and nothing else
python -m desk serve [--port 5006]   run the desk
python -m desk purge                 delete records older than RETENTION_DAYS (cron-safe)
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from desk.auth import hash_password
from desk.retention import purge
from desk.settings import DeskSettings, database_url
from desk.storage import Store, migrate
from desk.training_store import RECRUITER, ROLES
from privacy.tracebacks import install_traceback_redaction


def _password(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("The passwords differ; nothing changed.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _purge() -> int:
    """Before any migration: a database that does not answer is a one-line failure, not a
    traceback, and a desk whose tables do not exist yet has nothing to purge."""
    status, summary = purge(time.time())
    print(summary, file=sys.stderr if status else sys.stdout)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk", description="The recruiter desk.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the desk's tables up to date")
    create = commands.add_parser("create-user", help="add a desk user")
    create.add_argument("name")
    create.add_argument(
        "--role", choices=ROLES, default=RECRUITER, help="recruiter (default) or trainer"
    )
    commands.add_parser("set-password").add_argument("name")
    token = commands.add_parser("create-token", help="print a new API token")
    token.add_argument("name")
    token.add_argument("--days", type=float, default=90, help="valid for (default 90 days)")
    serve = commands.add_parser("serve", help="run the desk")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5006)
    commands.add_parser("purge", help="delete records older than RETENTION_DAYS (cron-safe)")
    args = parser.parse_args(argv)
    if args.command == "purge":
        return _purge()

    url = database_url()
    migrate(url)
    if args.command == "migrate":
        print("The desk's tables are up to date.", file=sys.stderr)
        return 0
    if args.command == "serve":
        from desk.app import create_app

        install_traceback_redaction()  # no applicant text in tracebacks (docs/privacy.md)
        app = create_app(DeskSettings.from_env(), run_migrations=False)
        app.run(host=args.host, port=args.port, access_log=False, motd=False)
        return 0
    store = Store(url)
    now = time.time()
    if args.command == "create-token":
        try:
            print(store.create_token(args.name, now, now + args.days * 86400))
        except KeyError:
            print(f"No recruiter called {args.name!r}: add one with create-user.", file=sys.stderr)
            return 1
        return 0
    try:
        password_hash = hash_password(_password(args.name))
    except ValueError as error:
        print(f"Not changed: {error}.", file=sys.stderr)
        return 1
    if args.command == "create-user":
        if store.user(args.name):
            print(f"{args.name!r} already exists; use set-password.", file=sys.stderr)
            return 1
        store.add_user(args.name, password_hash, now, args.role)
        print(f"{args.role.capitalize()} {args.name!r} added.", file=sys.stderr)
        return 0
    if not store.set_password(args.name, password_hash, now):
        print(f"No recruiter called {args.name!r}.", file=sys.stderr)
        return 1
    print(f"Password for {args.name!r} changed.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
