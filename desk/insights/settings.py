"""Where the roll-up reads and writes, and how long a day stays open, from the environment.

The tracker store is found as the trainers' inbox finds it (TRACKER_DB_URL, else the desk's
database, which is the tracker store's, else endpoints.yml).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from desk.settings import OfficeHoursSettings
from desk.settings import database_url as desk_database_url
from privacy.settings import DEFAULT_ENDPOINTS, retention_days
from training.inbox_settings import tracker_database_url

# Days stay open this much less than the retention, so the purge never deletes the events of
# a day that the roll-up may still recompute (a recompute would then lose them).
PURGE_MARGIN_DAYS = 2


@dataclass(frozen=True)
class InsightsSettings:
    tracker_db_url: str
    desk_db_url: str
    insights_db_url: str
    office: OfficeHoursSettings
    open_days: int
    rollup_seconds: float = 60.0

    @classmethod
    def from_env(
        cls, endpoints: Path = DEFAULT_ENDPOINTS, environ: Mapping[str, str] | None = None
    ) -> InsightsSettings:
        env = os.environ if environ is None else environ
        desk_url = desk_database_url()
        return cls(
            tracker_db_url=tracker_database_url(endpoints),
            desk_db_url=desk_url,
            insights_db_url=env.get("INSIGHTS_DATABASE_URL") or desk_url,
            office=OfficeHoursSettings.from_env(),
            open_days=max(1, int(retention_days(env)) - PURGE_MARGIN_DAYS),
            rollup_seconds=float(env.get("INSIGHTS_ROLLUP_SECONDS", "60")),
        )
