"""The tracker store purge's settings: retention, batches and where the tracker store is.

The tracker store is read from the same endpoints file the Rasa server uses, so the purge
can never clean a different database from the one Rasa writes. The desk purges its own
database (desk/retention.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa

from privacy.retention import (
    DEFAULT_RETENTION_DAYS,
    SettingsError,
    days_text,
    purge_batch_size,
    retention_days,
)

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "PurgeSettings",
    "SettingsError",
    "days_text",
    "retention_days",
    "tracker_db_url",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
# Tracker store types whose `events` table the purge knows how to clean.
SQL_TRACKER_STORES = ("sql", "rasa_server.tracker_store.ErasingSQLTrackerStore")


@dataclass(frozen=True)
class PurgeSettings:
    retention_days: float
    batch_size: int
    tracker_db_url: str

    @classmethod
    def from_env(
        cls, endpoints: Path = DEFAULT_ENDPOINTS, environ: Mapping[str, str] | None = None
    ) -> PurgeSettings:
        env = os.environ if environ is None else environ
        return cls(
            retention_days=retention_days(env),
            batch_size=purge_batch_size(env),
            tracker_db_url=tracker_db_url(endpoints),
        )


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
    # Read as Rasa's EndpointConfig.from_dict does (`type` and `url` apart, the rest options),
    # without importing Rasa: the desk's image, whose Insights read this, has no Rasa.
    options = dict(tracker_store_section(endpoints) or {})
    kind, host = str(options.pop("type", "") or ""), options.pop("url", None)
    if not kind:
        raise SettingsError(
            f"{endpoints} configures no tracker store, so Rasa keeps conversations in memory "
            "only and there is nothing to purge."
        )
    if kind.lower() not in [name.lower() for name in SQL_TRACKER_STORES]:
        raise SettingsError(
            f"{endpoints}: the purge supports SQL tracker stores ({', '.join(SQL_TRACKER_STORES)}),"
            f" not {kind!r}."
        )
    dialect = str(options.get("dialect") or "sqlite")
    db = str(options.get("db") or "rasa.db")
    if dialect == "sqlite" and db and not Path(db).is_absolute():
        # Rasa resolves it from its working directory, which `make run` sets to the project.
        db = str(PROJECT_ROOT / db)
    if host and "://" in str(host):
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
