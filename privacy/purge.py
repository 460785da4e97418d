"""`make purge`: delete conversations and handoffs older than the retention (safe from cron).

python -m privacy.purge [--endpoints endpoints.yml]

Deletes, in bounded batches, tracker store events older than RETENTION_DAYS (default 30)
that no conversation in progress needs (see privacy.tracker_events.expired_events), and
desk handoffs, with their messages and notes, inactive for as long, and the Live Q&A
questions of broadcasts with no question for as long. Running it again at once
deletes nothing more (idempotent). Prints one line, with counts and no personal data:
on stdout when it worked, on stderr when it did not.

Exit status: 0 done; 1 a store could not be purged (the other is still tried); 2 the
configuration is unusable (nothing was touched).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, List

from desk.live_qa_tables import purge_broadcasts
from desk.storage import make_engine
from privacy import desk_records, tracker_events
from privacy.settings import DEFAULT_ENDPOINTS, PurgeSettings, SettingsError, days_text

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DAY_S = 86400.0


def run(settings: PurgeSettings, now: float) -> tuple[int, str]:
    """Purge both stores; the exit status and the summary line."""
    cutoff = now - settings.retention_days * DAY_S
    days = days_text(settings.retention_days)
    before = datetime.fromtimestamp(cutoff, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts: List[str] = [f"retention {days} days (before {before})"]
    failed = False

    def attempt(store: str, work: Callable[[], str]) -> None:
        nonlocal failed
        try:
            parts.append(f"{store}: {work()}")
        except Exception as error:  # a broken store must not stop the other's purge
            failed = True
            parts.append(f"{store}: FAILED ({_describe(error)})")

    def tracker() -> str:
        engine = make_engine(settings.tracker_db_url)
        try:
            done = tracker_events.purge(engine, cutoff, settings.batch_size)
        finally:
            engine.dispose()
        return (
            f"{done.events_deleted} events deleted "
            f"({done.conversations_deleted} idle conversations)"
        )

    def desk() -> str:
        engine = make_engine(settings.desk_db_url)
        try:
            done = desk_records.purge(engine, cutoff, settings.batch_size, now, days)
        finally:
            engine.dispose()
        return (
            f"{done.handoffs_deleted} handoffs deleted "
            f"({done.rows_deleted} messages, notes and other rows)"
        )

    def live_qa() -> str:
        engine = make_engine(settings.desk_db_url)
        try:
            deleted = purge_broadcasts(engine, cutoff)
        finally:
            engine.dispose()
        return f"{deleted} questions deleted (broadcasts with none since)"

    attempt("tracker store", tracker)
    attempt("desk", desk)
    attempt("live q&a", live_qa)
    status = EXIT_FAILED if failed else EXIT_OK
    return status, ("purge failed: " if failed else "purge done: ") + "; ".join(parts)


def _describe(error: Exception) -> str:
    """The error's kind and first line: never the SQL or its parameters (a sender id)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(original).__name__}: {first_line}" if first_line else type(original).__name__


def main(argv: List[str] | None = None) -> int:
    # One summary line, not Rasa's import-time deprecation notices (Rasa re-enables them
    # while it imports, so only recording them keeps them off stderr).
    with warnings.catch_warnings(record=True):
        import rasa.utils.endpoints  # noqa: F401
    parser = argparse.ArgumentParser(prog="python -m privacy.purge", description=__doc__)
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=DEFAULT_ENDPOINTS,
        help="the Rasa endpoints file whose tracker store to purge (default endpoints.yml)",
    )
    args = parser.parse_args(argv)
    try:
        settings = PurgeSettings.from_env(args.endpoints)
    except SettingsError as error:
        print(f"purge not run: {error}", file=sys.stderr)
        return EXIT_CONFIG
    status, summary = run(settings, time.time())
    print(summary, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
