"""The tracker store's half of `make purge`: delete conversations older than the retention.

python -m privacy.purge [--endpoints endpoints.yml]

Deletes, in bounded batches, tracker store events older than RETENTION_DAYS (default 30)
that no conversation in progress needs (see privacy.tracker_events.expired_events). The
desk purges its own handoffs and Live Q&A questions (`python -m desk purge`,
desk/retention.py); `make purge` and the nightly CronJob run both. Running it again at once
deletes nothing more (idempotent). Prints one line, with counts and no personal data:
on stdout when it worked, on stderr when it did not.

Exit status: 0 done; 1 a store could not be purged (the other is still tried); 2 the
configuration is unusable (nothing was touched).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Tuple

from privacy import tracker_events
from privacy.retention import EXIT_CONFIG, PurgeRun
from privacy.settings import DEFAULT_ENDPOINTS, PurgeSettings, SettingsError
from privacy.tracker_events import tracker_engine


def run(settings: PurgeSettings, now: float) -> Tuple[int, str]:
    """Purge the tracker store; the exit status and the summary line."""
    purge = PurgeRun(settings.retention_days, now)

    def tracker() -> str:
        engine = tracker_engine(settings.tracker_db_url)
        try:
            done = tracker_events.purge(engine, purge.cutoff, settings.batch_size)
        finally:
            engine.dispose()
        return (
            f"{done.events_deleted} events deleted "
            f"({done.conversations_deleted} idle conversations)"
        )

    purge.attempt("tracker store", tracker)
    return purge.result()


def main(argv: List[str] | None = None) -> int:
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
