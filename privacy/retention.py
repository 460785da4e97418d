"""How long applicants' conversations and handoffs are kept (RETENTION_DAYS), and in what
batches the nightly purges delete them (PURGE_BATCH_SIZE).

Read by the tracker store's purge (privacy/purge.py), the desk's own purge (desk/retention.py)
and the action server, which tells an applicant who asks to erase their data how long it
would be kept otherwise. A module of its own with no project imports, so the action server's
and the desk's images need nothing else from privacy/.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from typing import Callable, List, Mapping, Tuple

DEFAULT_RETENTION_DAYS = 30
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 100_000


class SettingsError(ValueError):
    """A setting has a value the purge cannot use; the message names it and says why."""


def retention_days(environ: Mapping[str, str] | None = None) -> float:
    """RETENTION_DAYS: how long a conversation or handoff is kept after its last activity."""
    env = os.environ if environ is None else environ
    raw = env.get("RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        raise SettingsError(
            f"RETENTION_DAYS must be a number of days, e.g. 30; got {raw!r}."
        ) from None
    # Under a day would delete conversations that are still going on.
    if not math.isfinite(days) or days < 1:
        raise SettingsError(f"RETENTION_DAYS must be at least 1 day; got {raw!r}.")
    return days


def days_text(days: float) -> str:
    """How an applicant reads the retention: "30", or "1.5"."""
    return f"{days:g}"


def purge_batch_size(environ: Mapping[str, str] | None = None) -> int:
    """PURGE_BATCH_SIZE: rows deleted per transaction, so a purge never holds long locks."""
    env = os.environ if environ is None else environ
    raw = env.get("PURGE_BATCH_SIZE", "").strip()
    if not raw:
        return DEFAULT_BATCH_SIZE
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"PURGE_BATCH_SIZE must be a whole number; got {raw!r}.") from None
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise SettingsError(
            f"PURGE_BATCH_SIZE must be between 1 and {MAX_BATCH_SIZE}; got {raw!r}."
        )
    return value


EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DAY_S = 86400.0


class PurgeRun:
    """One purge's summary line: each store is tried even when another failed, and the line
    says what each deleted, with counts only (cron mails it; it must hold no personal data)."""

    def __init__(self, days: float, now: float) -> None:
        self.cutoff = now - days * DAY_S
        before = datetime.fromtimestamp(self.cutoff, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._parts: List[str] = [f"retention {days_text(days)} days (before {before})"]
        self._failed = False

    def attempt(self, store: str, work: Callable[[], str]) -> None:
        try:
            self._parts.append(f"{store}: {work()}")
        except Exception as error:  # a broken store must not stop the next one's purge
            self._failed = True
            self._parts.append(f"{store}: FAILED ({describe_error(error)})")

    def result(self) -> Tuple[int, str]:
        """The exit status and the summary line."""
        status = EXIT_FAILED if self._failed else EXIT_OK
        return status, ("purge failed: " if self._failed else "purge done: ") + "; ".join(
            self._parts
        )


def describe_error(error: Exception) -> str:
    """The error's kind and first line: never the SQL or its parameters (a sender id)."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(original).__name__}: {first_line}" if first_line else type(original).__name__
