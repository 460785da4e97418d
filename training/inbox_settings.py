"""Where the trainers' inbox reads from and its defaults, from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from training.grouping import DEFAULT_SIMILARITY
from training.missed_messages import DEFAULT_CONFIDENCE
from training.tracker_events import DEFAULT_PAGE_SIZE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SINCE_DAYS = 30.0


@dataclass(frozen=True)
class InboxSettings:
    """Where the inbox reads from and its defaults, from environment variables."""

    tracker_url: str
    desk_url: str
    since_days: float | None = DEFAULT_SINCE_DAYS
    confidence: float = DEFAULT_CONFIDENCE
    similarity: float = DEFAULT_SIMILARITY
    page_size: int = DEFAULT_PAGE_SIZE
    # Where labelled examples are written (the project's data/ unless set; tests use a copy).
    data_dir: Path = ROOT / "data"

    @classmethod
    def from_env(cls, desk_url: str) -> InboxSettings:
        """`desk_url`: the desk's database, as the desk reads it (its decisions and flags)."""
        since = float(os.environ.get("INBOX_SINCE_DAYS", DEFAULT_SINCE_DAYS))
        return cls(
            tracker_url=tracker_database_url(),
            desk_url=desk_url,
            since_days=since if since > 0 else None,
            confidence=float(os.environ.get("INBOX_CONFIDENCE", DEFAULT_CONFIDENCE)),
            similarity=float(os.environ.get("INBOX_SIMILARITY", DEFAULT_SIMILARITY)),
            page_size=int(os.environ.get("INBOX_PAGE_SIZE", DEFAULT_PAGE_SIZE)),
            data_dir=Path(os.environ.get("TRAINING_DATA_DIR") or ROOT / "data"),
        )


def tracker_database_url(endpoints: Path = ROOT / "endpoints.yml") -> str:
    """TRACKER_DB_URL; else the desk's database (which is the tracker store's); else the SQLite
    file endpoints.yml names."""
    for name in ("TRACKER_DB_URL", "DESK_DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        config = YAML(typ="safe").load(endpoints.read_text(encoding="utf-8")) or {}
    except OSError:
        config = {}
    store = config.get("tracker_store") or {}
    if str(store.get("dialect") or "sqlite") == "sqlite" and store.get("db"):
        path = Path(str(store["db"]))
        return f"sqlite:///{path if path.is_absolute() else ROOT / path}"
    return f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
