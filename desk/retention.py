"""The desk's half of `make purge`: delete its own records older than the retention.

python -m desk purge

The desk owns its database, so it alone deletes from it: handoffs, with their messages and
notes, with no activity for RETENTION_DAYS (default 30; desk/applicant_records.py), and the
Live Q&A questions of broadcasts with no question for as long (desk/live_qa_tables.py).
The tracker store's half is `python -m privacy.purge`, run beside it by `make purge` and the
nightly CronJob. Idempotent; one summary line with counts and no personal data.
"""

from __future__ import annotations

from typing import Tuple

from desk import applicant_records
from desk.live_qa_tables import purge_broadcasts
from desk.settings import database_url
from desk.storage import make_engine
from privacy.retention import (
    EXIT_CONFIG,
    PurgeRun,
    SettingsError,
    days_text,
    purge_batch_size,
    retention_days,
)


def purge(now: float) -> Tuple[int, str]:
    """Purge the desk's database (DESK_DATABASE_URL); the exit status and the summary line."""
    try:
        days, batch_size = retention_days(), purge_batch_size()
    except SettingsError as error:
        return EXIT_CONFIG, f"purge not run: {error}"
    run = PurgeRun(days, now)
    engine = make_engine(database_url())

    def handoffs() -> str:
        done = applicant_records.purge(engine, run.cutoff, batch_size, now, days_text(days))
        return (
            f"{done.handoffs_deleted} handoffs deleted "
            f"({done.rows_deleted} messages, notes and other rows)"
        )

    def live_qa() -> str:
        deleted = purge_broadcasts(engine, run.cutoff)
        return f"{deleted} questions deleted (broadcasts with none since)"

    try:
        run.attempt("desk", handoffs)
        run.attempt("live q&a", live_qa)
    finally:
        engine.dispose()
    return run.result()
