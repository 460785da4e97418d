"""Web chat session ids that only the server can issue.

A session id is ``<128 random bits, hex>.<HMAC-SHA256 of them, truncated to 128 bits>``.
The server hands it to the browser in ``session_confirm``; a proposed id is accepted only
if its HMAC checks out, that is if this server (or a replica with the same secret) issued
it, and only the browser it was issued to holds it: the conversation id, ``webchat:<random
part>``, which the desk and the logs may show, does not carry the HMAC. No server-side
registry, so two replicas agree as long as they share ``WEBCHAT_SESSION_SECRET``; without it
a secret is generated once into ``var/webchat_session_secret`` (one machine, `make run`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

SECRET_ENV = "WEBCHAT_SESSION_SECRET"
VAR_DIR = Path(__file__).resolve().parent.parent / "var"
SECRET_FILE = "webchat_session_secret"
RANDOM_BYTES = 16  # 128 bits
_SHAPE = re.compile(r"^[0-9a-f]{32}\.[0-9a-f]{32}$")


class SessionIds:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"{SECRET_ENV} must be at least 16 bytes long")
        self._secret = secret

    @classmethod
    def from_env(cls, var_dir: Path = VAR_DIR) -> SessionIds:
        """The secret from WEBCHAT_SESSION_SECRET, else one generated once into var/."""
        configured = os.environ.get(SECRET_ENV, "")
        if configured:
            return cls(configured.encode("utf-8"))
        path = var_dir / SECRET_FILE
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        return cls(path.read_text(encoding="utf-8").strip().encode("utf-8"))

    def _signature(self, random_part: str) -> str:
        digest = hmac.new(self._secret, random_part.encode("ascii"), hashlib.sha256)
        return digest.hexdigest()[:32]

    def issue(self) -> tuple[str, str]:
        """A new (session id for the browser, session key for the conversation id)."""
        random_part = secrets.token_hex(RANDOM_BYTES)
        return f"{random_part}.{self._signature(random_part)}", random_part

    def verify(self, proposed: object) -> str | None:
        """The session key of an id this server issued, else None."""
        if not isinstance(proposed, str) or not _SHAPE.match(proposed):
            return None
        random_part, signature = proposed.split(".")
        if not hmac.compare_digest(signature, self._signature(random_part)):
            return None
        return random_part
