"""Every setting the recruiter desk reads, in one place, from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from contracts.rasa_api_auth import api_token
from desk.service_auth import service_token

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"


def database_url() -> str:
    """The tracker store's database by default, so handoffs live beside conversations."""
    return os.environ.get("DESK_DATABASE_URL") or DEFAULT_DATABASE_URL


def clock_time(value: str) -> time:
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class OfficeHoursSettings:
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    timezone: str = "Europe/London"
    bank_holidays_file: Path = PROJECT_ROOT / "data" / "bank_holidays.yml"
    reply_minutes: int = 30

    @classmethod
    def from_env(cls) -> OfficeHoursSettings:
        return cls(
            opens=clock_time(os.environ.get("DESK_OFFICE_OPENS", "09:00")),
            closes=clock_time(os.environ.get("DESK_OFFICE_CLOSES", "17:00")),
            timezone=os.environ.get("DESK_TIMEZONE", "Europe/London"),
            bank_holidays_file=Path(
                os.environ.get("DESK_BANK_HOLIDAYS_FILE", cls.bank_holidays_file)
            ),
            reply_minutes=int(os.environ.get("DESK_REPLY_MINUTES", "30")),
        )


@dataclass(frozen=True)
class DeskSettings:
    database_url: str
    rasa_url: str
    rasa_token: str
    office: OfficeHoursSettings
    holding_after_minutes: int = 15
    holding_check_seconds: float = 30
    session_hours: float = 8
    cookie_secure: bool = True
    # Sign-in throttling (desk/sign_in_throttle.py): failures from one address at one account,
    # from one address at any, and at one account from every address.
    max_failed_logins: int = 5
    max_failed_logins_per_address: int = 20
    max_failed_logins_per_account: int = 50
    lockout_minutes: int = 15
    # Proxies in front of the desk that add X-Forwarded-For (1 behind the ingress), so the
    # throttle sees the recruiter's own address, not the proxy's.
    proxies_count: int = 0
    rasa_timeout_seconds: float = 15
    saved_replies_file: Path = PROJECT_ROOT / "data" / "saved_replies.yml"
    # Production: sign JWTs for the Rasa HTTP API with this instead of sending the token.
    rasa_jwt_secret: str = ""
    # What the action server and the channels send to the service routes (desk/service_auth.py);
    # empty refuses every service call.
    service_token: str = ""
    # Where recruiters open the desk, for the links in handoff notifications.
    public_url: str = "http://localhost:5006"
    # A Teams or Slack incoming webhook told of each new handoff (never the applicant's text).
    notify_webhook_url: str = ""
    notify_timeout_s: float = 5.0

    @classmethod
    def from_env(cls) -> DeskSettings:
        jwt_secret = os.environ.get("RASA_JWT_SECRET", "")
        return cls(
            database_url=database_url(),
            rasa_url=os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/"),
            rasa_token="" if jwt_secret else api_token(),
            rasa_jwt_secret=jwt_secret,
            office=OfficeHoursSettings.from_env(),
            holding_after_minutes=int(os.environ.get("DESK_HOLDING_AFTER_MINUTES", "15")),
            holding_check_seconds=float(os.environ.get("DESK_HOLDING_CHECK_SECONDS", "30")),
            session_hours=float(os.environ.get("DESK_SESSION_HOURS", "8")),
            cookie_secure=os.environ.get("DESK_COOKIE_SECURE", "true").lower() != "false",
            max_failed_logins=int(os.environ.get("DESK_MAX_FAILED_LOGINS", "5")),
            max_failed_logins_per_address=int(
                os.environ.get("DESK_MAX_FAILED_LOGINS_PER_ADDRESS", "20")
            ),
            max_failed_logins_per_account=int(
                os.environ.get("DESK_MAX_FAILED_LOGINS_PER_ACCOUNT", "50")
            ),
            proxies_count=int(os.environ.get("DESK_PROXIES_COUNT", "0")),
            lockout_minutes=int(os.environ.get("DESK_LOCKOUT_MINUTES", "15")),
            saved_replies_file=Path(
                os.environ.get("DESK_SAVED_REPLIES_FILE", cls.saved_replies_file)
            ),
            service_token=service_token(),
            public_url=os.environ.get("DESK_PUBLIC_URL", cls.public_url).strip().rstrip("/"),
            notify_webhook_url=os.environ.get("DESK_NOTIFY_WEBHOOK_URL", "").strip(),
        )
