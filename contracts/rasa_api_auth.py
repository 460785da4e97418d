"""How every client authenticates to the Rasa server's HTTP API: the desk, the staff erasure
tool, the local-run scripts and the tests.

The API takes RASA_TOKEN as `?token=`, or, in production (RASA_JWT_SECRET), a JWT signed with
that secret. One place for both, so no client needs another service's modules to call Rasa.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import jwt

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLE = "RASA_TOKEN"
# Each request gets a fresh token, so a leaked one is soon useless.
JWT_LIFETIME_S = 300


def signed_admin_token(secret: str, username: str = "careers-desk") -> str:
    """A JWT Rasa 3.6 accepts for every conversation (rasa/server.py requires_auth: role admin)."""
    payload = {
        "user": {"username": username, "role": "admin"},
        "exp": int(time.time()) + JWT_LIFETIME_S,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


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
    """An admin JWT for the scripts and staff tools (the desk signs as careers-desk)."""
    return signed_admin_token(secret, username="careers-scripts")
