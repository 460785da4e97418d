"""The production set-up's settings: PostgreSQL, Redis and the shared secrets, from the
environment, as the processes started with endpoints.prod.yml read them.

Used by `make run-prod` (scripts/run_local.py --production), the production tests and the
benchmark, so all of them run that set-up the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Mapping
from urllib.parse import quote

import sqlalchemy as sa

from scripts.stack import ROOT

ENDPOINTS = ROOT / "endpoints.prod.yml"
CREDENTIALS = ROOT / "credentials.prod.yml"


@dataclass(frozen=True)
class ProductionServices:
    """Where the shared state lives. Defaults: this machine's PostgreSQL and Redis."""

    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_name: str = "careers"
    db_user: str = "postgres"
    db_password: str = ""
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    redis_password: str = ""
    redis_key_prefix: str = "careers"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProductionServices:
        env = os.environ if environ is None else environ
        defaults = cls()

        def value(name: str, default: object) -> str:
            return env.get(name, "").strip() or str(default)

        return cls(
            db_host=value("DB_HOST", defaults.db_host),
            db_port=int(value("DB_PORT", defaults.db_port)),
            db_name=value("DB_NAME", defaults.db_name),
            db_user=value("DB_USER", defaults.db_user),
            db_password=env.get("DB_PASSWORD", ""),
            redis_host=value("REDIS_HOST", defaults.redis_host),
            redis_port=int(value("REDIS_PORT", defaults.redis_port)),
            redis_db=int(value("REDIS_DB", defaults.redis_db)),
            redis_password=env.get("REDIS_PASSWORD", ""),
            redis_key_prefix=value("REDIS_KEY_PREFIX", defaults.redis_key_prefix),
        )

    def database_url(self, name: str | None = None, hide_password: bool = False) -> str:
        password = "***" if hide_password and self.db_password else quote(self.db_password, safe="")
        auth = quote(self.db_user, safe="") + (f":{password}" if self.db_password else "")
        return f"postgresql://{auth}@{self.db_host}:{self.db_port}/{name or self.db_name}"

    def env(self) -> Dict[str, str]:
        """What every process of the set-up needs (endpoints.prod.yml, desk, actions)."""
        return {
            "DB_HOST": self.db_host,
            "DB_PORT": str(self.db_port),
            "DB_NAME": self.db_name,
            "DB_USER": self.db_user,
            "DB_PASSWORD": self.db_password,
            # Handoffs and recruiter accounts live beside the conversations.
            "DESK_DATABASE_URL": self.database_url(),
            "REDIS_HOST": self.redis_host,
            "REDIS_PORT": str(self.redis_port),
            "REDIS_DB": str(self.redis_db),
            "REDIS_PASSWORD": self.redis_password,
            "REDIS_KEY_PREFIX": self.redis_key_prefix,
        }

    def describe(self) -> str:
        redis_auth = " (with password)" if self.redis_password else ""
        return (
            f"  Conversations and desk: {self.database_url(hide_password=True)}\n"
            f"  Locks and Instagram message ids: redis://{self.redis_host}:{self.redis_port}/"
            f"{self.redis_db}{redis_auth}, keys under {self.redis_key_prefix}:"
        )


def ensure_database(services: ProductionServices, maintenance_db: str = "postgres") -> bool:
    """Create the database when it is missing (True if it was created)."""
    engine = sa.create_engine(
        services.database_url(maintenance_db),
        isolation_level="AUTOCOMMIT",
        future=True,
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": services.db_name},
            ).scalar()
            if exists:
                return False
            quoted = services.db_name.replace('"', '""')
            connection.execute(sa.text(f'CREATE DATABASE "{quoted}"'))
            return True
    finally:
        engine.dispose()
