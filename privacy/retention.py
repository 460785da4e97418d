"""How long applicants' conversations and handoffs are kept (RETENTION_DAYS).

Read by the purge (privacy/purge.py) and by the action server, which tells an applicant who
asks to erase their data how long it would be kept otherwise. A module of its own with no
project imports, so the action server's image needs nothing else from privacy/.
"""

from __future__ import annotations

import math
import os
from typing import Mapping

DEFAULT_RETENTION_DAYS = 30


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
