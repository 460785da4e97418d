"""Every privacy setting, in one place: retention, purge batches and where the stores are.

The tracker store is read from the same endpoints file the Rasa server uses (so the purge
can never clean a different database from the one Rasa writes); the desk's database from
DESK_DATABASE_URL, as the desk and the action server read it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa

from desk.settings import database_url as desk_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
DEFAULT_RETENTION_DAYS = 30
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 100_000
# Tracker store types whose `events` table the purge knows how to clean.
SQL_TRACKER_STORES = ("sql", "rasa_server.tracker_store.ErasingSQLTrackerStore")


class SettingsError(ValueError):
    """A setting has a value the purge cannot use; the message names it and says why."""


@dataclass(frozen=True)
class PurgeSettings:
    retention_days: float
    batch_size: int
    tracker_db_url: str
    desk_db_url: str

    @classmethod
    def from_env(
        cls, endpoints: Path = DEFAULT_ENDPOINTS, environ: Mapping[str, str] | None = None
    ) -> PurgeSettings:
        env = os.environ if environ is None else environ
        return cls(
            retention_days=retention_days(env),
            batch_size=_positive_int("PURGE_BATCH_SIZE", env, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE),
            tracker_db_url=tracker_db_url(endpoints),
            desk_db_url=desk_database_url(),
        )


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


def _expanded(value: Any, endpoints: Path) -> Any:
    """`value` with ${VARS} replaced from the environment, as Rasa reads endpoints files."""
    if isinstance(value, dict):
        return {key: _expanded(item, endpoints) for key, item in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    expanded = os.path.expandvars(value)
    if "${" in expanded:
        raise SettingsError(f"{endpoints}: set the environment variables in {value!r}.")
    return expanded


def tracker_store_section(endpoints: Path) -> Dict[str, Any] | None:
    """The `tracker_store:` of `endpoints`, its ${VARS} expanded.

    Only this section: Rasa's reader expands every ${VAR} in the file, and the purge has no
    need of the action server's secret (endpoints.yml) or address."""
    from ruamel.yaml import YAML

    if not endpoints.is_file():
        raise SettingsError(f"The endpoints file {endpoints} does not exist.")
    # Scalars as plain strings: Rasa registers its ${VAR} expansion on the other loaders.
    document = YAML(typ="base").load(endpoints.read_text(encoding="utf-8")) or {}
    section = document.get("tracker_store") if isinstance(document, dict) else None
    return _expanded(dict(section), endpoints) if isinstance(section, dict) else None


def tracker_db_url(endpoints: Path) -> str:
    """The SQLAlchemy URL of the tracker store configured in `endpoints` (${VARS} expanded)."""
    from rasa.utils.endpoints import EndpointConfig

    section = tracker_store_section(endpoints)
    config = EndpointConfig.from_dict(section) if section else None
    if config is None or not config.type:
        raise SettingsError(
            f"{endpoints} configures no tracker store, so Rasa keeps conversations in memory "
            "only and there is nothing to purge."
        )
    if config.type.lower() not in [name.lower() for name in SQL_TRACKER_STORES]:
        raise SettingsError(
            f"{endpoints}: the purge supports SQL tracker stores ({', '.join(SQL_TRACKER_STORES)}),"
            f" not {config.type!r}."
        )
    options = config.kwargs
    dialect = str(options.get("dialect") or "sqlite")
    db = str(options.get("db") or "rasa.db")
    if dialect == "sqlite" and db and not Path(db).is_absolute():
        # Rasa resolves it from its working directory, which `make run` sets to the project.
        db = str(PROJECT_ROOT / db)
    host = config.url
    if host and "://" in host:
        return str(host)  # Rasa takes a full URL in `url` as it is (SQLTrackerStore.get_db_url)
    port = options.get("port")
    if host:
        # Rasa also accepts "host:port" in `url`.
        parts = urlsplit(f"scheme://{host}")
        host, port = parts.hostname or host, parts.port or port
    url = sa.engine.URL.create(
        dialect,
        username=options.get("username"),
        password=options.get("password"),
        host=host,
        port=int(port) if port not in (None, "") else None,
        database=db,
        query=options.get("query") or {},
    )
    return url.render_as_string(hide_password=False)


def _positive_int(name: str, env: Mapping[str, str], default: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number; got {raw!r}.") from None
    if not 1 <= value <= maximum:
        raise SettingsError(f"{name} must be between 1 and {maximum}; got {raw!r}.")
    return value
