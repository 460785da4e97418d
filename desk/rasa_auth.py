"""Credentials for the Rasa HTTP API, for its clients: the desk, the staff scripts and tests.

The desk is the Rasa API's main client, so the helpers live here; scripts/ and privacy/ import
them from here (never the other way round, which made desk.settings -> scripts.stack ->
desk.rasa_api a cycle).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from desk.rasa_api import signed_admin_token

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLE = "RASA_TOKEN"


def api_token(var_dir: Path = PROJECT_ROOT / "var") -> str:
    """RASA_TOKEN from the environment, else one generated once and kept in var/."""
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        return token
    path = var_dir / "rasa_token"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def api_jwt(secret: str) -> str:
    """An admin JWT for the Rasa HTTP API when it runs with RASA_JWT_SECRET (as the desk signs)."""
    return signed_admin_token(secret, username="careers-scripts")
