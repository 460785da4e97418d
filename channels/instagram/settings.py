"""Every setting the Instagram channel reads, in one place.

Secrets come from environment variables. ``credentials.yml`` may name non-secret values
(the Graph API address and version, the flood limit); an empty or missing value there
falls back to the environment, so the same file works on every machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping
from urllib.parse import quote

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
# v25.0 (February 2026) is documented and supported until July 2028; v21.0 expires in
# January 2027.
DEFAULT_GRAPH_VERSION = "v25.0"

# (credentials.yml key, environment variable) for the values that may come from either.
ENVIRONMENT = {
    "verify_token": "INSTAGRAM_VERIFY_TOKEN",
    "app_secret": "INSTAGRAM_APP_SECRET",
    "access_token": "INSTAGRAM_ACCESS_TOKEN",
    "graph_url": "INSTAGRAM_GRAPH_URL",
    "graph_version": "INSTAGRAM_GRAPH_VERSION",
}
SECRETS = ("verify_token", "app_secret", "access_token")
DEFAULT_DESK_URL = "http://localhost:5006"
# Meta allows 750 private replies an hour per account; the default stays under it.
META_PRIVATE_REPLIES_PER_HOUR = 750
DEFAULT_PRIVATE_REPLIES_PER_HOUR = 700
# The live Q&A schedule the action server also reads (QA_EVENTS_FILE).
DEFAULT_QA_EVENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "qa_events.yml"
DEFAULT_LIVE_QA_MINUTES = 120


class SettingsError(ValueError):
    """The channel cannot start: a value is missing or malformed."""


@dataclass(frozen=True)
class InstagramSettings:
    verify_token: str
    app_secret: str
    access_token: str
    graph_url: str = DEFAULT_GRAPH_URL
    graph_version: str = DEFAULT_GRAPH_VERSION
    # Meta's deliveries are small; anything bigger is refused before it is read in full.
    max_body_bytes: int = 1024 * 1024
    # Per-sender flood control: messages allowed in a sliding window.
    messages_per_window: int = 20
    window_seconds: float = 60.0
    # Senders whose messages are processed at the same time (see sender_queues.py).
    max_concurrent_senders: int = 8
    # Meta retries a failed delivery for up to 36 hours; remember message ids that long.
    dedup_ttl_seconds: float = 36 * 3600
    dedup_max_entries: int = 200_000
    # Several servers: message ids go in this Redis (from REDIS_HOST etc.), else in-process.
    dedup_redis_url: str = ""
    dedup_key_prefix: str = "careers"
    # Send API: per-request timeout and retries on transient errors.
    request_timeout_seconds: float = 10.0
    max_attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    # Private replies to comments (channels/instagram/private_replies.py).
    private_replies_enabled: bool = True
    private_reply_media: FrozenSet[str] = frozenset()  # empty: every media
    private_replies_per_hour: int = DEFAULT_PRIVATE_REPLIES_PER_HOUR
    # The desk's Live Q&A board (channels/instagram/desk_forward.py); no token: not forwarded.
    desk_url: str = DEFAULT_DESK_URL
    desk_service_token: str = ""
    # Scheduled Q&As, for DMs asked "for the live" (channels/instagram/live_dm_questions.py).
    qa_events_file: Path = DEFAULT_QA_EVENTS_FILE
    live_qa_minutes: int = DEFAULT_LIVE_QA_MINUTES

    @property
    def api_base(self) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.graph_version}"

    @classmethod
    def load(
        cls,
        credentials: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> InstagramSettings:
        """Settings from credentials.yml values, falling back to environment variables."""
        environ = os.environ if environ is None else environ
        credentials = credentials or {}
        values: Dict[str, Any] = {}
        for key, variable in ENVIRONMENT.items():
            value = credentials.get(key)
            if value in (None, ""):
                value = environ.get(variable, "")
            values[key] = str(value).strip()
        missing: List[str] = [ENVIRONMENT[key] for key in SECRETS if not values[key]]
        if missing:
            raise SettingsError("The Instagram channel needs " + ", ".join(missing) + " to be set.")
        values["graph_url"] = values["graph_url"] or DEFAULT_GRAPH_URL
        values["graph_version"] = values["graph_version"] or DEFAULT_GRAPH_VERSION
        if not values["graph_url"].startswith(("https://", "http://")):
            raise SettingsError("INSTAGRAM_GRAPH_URL must be an http(s) URL.")
        if not values["graph_version"].startswith("v"):
            raise SettingsError("INSTAGRAM_GRAPH_VERSION must look like v25.0.")
        values["dedup_redis_url"] = redis_url(environ)
        values["dedup_key_prefix"] = environ.get("REDIS_KEY_PREFIX", "").strip() or "careers"
        values.update(private_reply_settings(environ))
        values.update(live_qa_settings(environ))
        if "messages_per_minute" in credentials:
            values["messages_per_window"] = _positive_int(
                credentials["messages_per_minute"], "messages_per_minute"
            )
            values["window_seconds"] = 60.0
        return cls(**values)

    @classmethod
    def for_setup(
        cls, environ: Mapping[str, str] | None = None, need_token: bool = True
    ) -> InstagramSettings:
        """What the account set-up command needs: no webhook secrets, and for a dry run
        not even the access token."""
        environ = os.environ if environ is None else environ
        placeholders = {"verify_token": "unused", "app_secret": "unused"}
        if not need_token and not environ.get(ENVIRONMENT["access_token"]):
            placeholders["access_token"] = "<INSTAGRAM_ACCESS_TOKEN>"
        return cls.load(placeholders, environ)


def redis_url(environ: Mapping[str, str]) -> str:
    """The Redis the lock store uses (REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD), as a
    URL; empty when REDIS_HOST is unset."""
    host = environ.get("REDIS_HOST", "").strip()
    if not host:
        return ""
    password = environ.get("REDIS_PASSWORD", "")
    auth = f":{quote(password, safe='')}@" if password else ""
    port = environ.get("REDIS_PORT", "").strip() or "6379"
    db = environ.get("REDIS_DB", "").strip() or "0"
    return f"redis://{auth}{host}:{port}/{db}"


def private_reply_settings(environ: Mapping[str, str]) -> Dict[str, Any]:
    """INSTAGRAM_PRIVATE_REPLIES (on unless "off"), INSTAGRAM_PRIVATE_REPLY_MEDIA,
    INSTAGRAM_PRIVATE_REPLIES_PER_HOUR, DESK_URL and DESK_SERVICE_TOKEN."""
    switch = environ.get("INSTAGRAM_PRIVATE_REPLIES", "").strip().lower()
    if switch not in ("", "on", "off"):
        raise SettingsError("INSTAGRAM_PRIVATE_REPLIES must be on or off.")
    media = environ.get("INSTAGRAM_PRIVATE_REPLY_MEDIA", "")
    per_hour_text = environ.get("INSTAGRAM_PRIVATE_REPLIES_PER_HOUR", "").strip()
    per_hour = (
        _positive_int(per_hour_text, "INSTAGRAM_PRIVATE_REPLIES_PER_HOUR")
        if per_hour_text
        else DEFAULT_PRIVATE_REPLIES_PER_HOUR
    )
    if per_hour > META_PRIVATE_REPLIES_PER_HOUR:
        raise SettingsError(
            f"INSTAGRAM_PRIVATE_REPLIES_PER_HOUR must stay at or under Meta's limit of "
            f"{META_PRIVATE_REPLIES_PER_HOUR}."
        )
    desk_url = environ.get("DESK_URL", "").strip() or DEFAULT_DESK_URL
    if not desk_url.startswith(("https://", "http://")):
        raise SettingsError("DESK_URL must be an http(s) URL.")
    return {
        "private_replies_enabled": switch != "off",
        "private_reply_media": frozenset(m.strip() for m in media.split(",") if m.strip()),
        "private_replies_per_hour": per_hour,
        "desk_url": desk_url.rstrip("/"),
        "desk_service_token": environ.get("DESK_SERVICE_TOKEN", "").strip(),
    }


def live_qa_settings(environ: Mapping[str, str]) -> Dict[str, Any]:
    """QA_EVENTS_FILE (the schedule) and INSTAGRAM_LIVE_QA_MINUTES (how long a Q&A without
    an ``ends`` time is taken to last)."""
    path = environ.get("QA_EVENTS_FILE", "").strip()
    minutes = environ.get("INSTAGRAM_LIVE_QA_MINUTES", "").strip()
    return {
        "qa_events_file": Path(path) if path else DEFAULT_QA_EVENTS_FILE,
        "live_qa_minutes": (
            _positive_int(minutes, "INSTAGRAM_LIVE_QA_MINUTES")
            if minutes
            else DEFAULT_LIVE_QA_MINUTES
        ),
    }


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{name} must be a whole number.") from error
    if number < 1:
        raise SettingsError(f"{name} must be at least 1.")
    return number
