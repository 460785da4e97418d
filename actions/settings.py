"""Every setting the action server reads, in one place, from environment variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = "Europe/London"
CAREERS_URL = "https://www.mi5.gov.uk/careers"

VACANCY_FORMATS = ("jobposting", "greenhouse", "lever")
DEFAULT_VACANCIES_FEED = PROJECT_ROOT / "data" / "vacancies" / "jobposting.json"
DEFAULT_VACANCIES_TIMEOUT_S = 5.0
DEFAULT_VACANCIES_CACHE_TTL_S = 300.0
# An applicant is waiting for the answer: a longer wait than this is never worth it.
MAX_VACANCIES_TIMEOUT_S = 60.0


class SettingsError(ValueError):
    """A setting has a value the assistant cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Settings:
    qa_events_file: Path
    timezone: str = TIMEZONE
    careers_url: str = CAREERS_URL

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            qa_events_file=Path(
                os.environ.get("QA_EVENTS_FILE", PROJECT_ROOT / "data" / "qa_events.yml")
            ),
        )


@dataclass(frozen=True)
class HandoffSettings:
    """Handing a conversation to a recruiter, and erasing an applicant's records: both are
    calls to the recruiter desk's service API (desk/service_routes.py), which owns the queue,
    the office hours and the reply time the applicant is told."""

    desk_url: str = "http://localhost:5006"
    # DESK_SERVICE_TOKEN, sent as `Authorization: Bearer`; the desk refuses calls without it.
    service_token: str = ""
    handoff_topics_file: Path = PROJECT_ROOT / "data" / "handoff_topics.yml"
    # Each call to the desk, connecting included; well inside Rasa's action timeout
    # (ACTION_TIMEOUT_S, 20 s), so a desk that is down still leaves time to tell the applicant.
    desk_timeout_s: float = 5.0

    @classmethod
    def from_env(cls) -> HandoffSettings:
        return cls(
            desk_url=os.environ.get("DESK_URL", cls.desk_url).strip().rstrip("/"),
            service_token=os.environ.get("DESK_SERVICE_TOKEN", "").strip(),
            handoff_topics_file=Path(
                os.environ.get("HANDOFF_TOPICS_FILE", cls.handoff_topics_file)
            ),
        )


@dataclass(frozen=True)
class VacancySettings:
    """The job feed. Kept apart from Settings so a bad feed setting breaks only vacancies."""

    # An http(s) URL, or a path (relative paths are from the project root).
    url: str = str(DEFAULT_VACANCIES_FEED)
    format: str = "jobposting"
    timeout_s: float = DEFAULT_VACANCIES_TIMEOUT_S
    cache_ttl_s: float = DEFAULT_VACANCIES_CACHE_TTL_S
    timezone: str = TIMEZONE
    careers_url: str = CAREERS_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VacancySettings:
        env = os.environ if environ is None else environ
        return cls(
            url=_feed_location(env.get("VACANCIES_URL", "")),
            format=_choice("VACANCIES_FORMAT", env.get("VACANCIES_FORMAT", ""), VACANCY_FORMATS),
            timeout_s=_seconds(
                "VACANCIES_TIMEOUT_S",
                env.get("VACANCIES_TIMEOUT_S", ""),
                DEFAULT_VACANCIES_TIMEOUT_S,
                allow_zero=False,
                maximum=MAX_VACANCIES_TIMEOUT_S,
            ),
            cache_ttl_s=_seconds(
                "VACANCIES_CACHE_TTL_S",
                env.get("VACANCIES_CACHE_TTL_S", ""),
                DEFAULT_VACANCIES_CACHE_TTL_S,
                allow_zero=True,
            ),
        )

    @property
    def is_remote(self) -> bool:
        return urlsplit(self.url).scheme in ("http", "https")


def _feed_location(raw: str) -> str:
    value = raw.strip()
    if not value:
        return str(DEFAULT_VACANCIES_FEED)
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise SettingsError(f"VACANCIES_URL {value!r} has no host name.")
        return value
    if "://" in value:
        raise SettingsError(
            f"VACANCIES_URL {value!r}: only http:// and https:// URLs are supported; "
            "for a file on this machine give its path instead."
        )
    path = Path(value)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if not path.is_file():
        raise SettingsError(
            f"VACANCIES_URL {value!r} is neither an http(s):// URL nor a file that exists "
            f"(looked for {path})."
        )
    return str(path)


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if not value:
        return choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {raw!r}.")
    return value


def _seconds(
    name: str, raw: str, default: float, *, allow_zero: bool, maximum: float | None = None
) -> float:
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, e.g. 5; got {raw!r}.") from None
    smallest = "0 or more" if allow_zero else "more than 0"
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise SettingsError(f"{name} must be {smallest} seconds; got {raw!r}.")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g} seconds; got {raw!r}.")
    return value
