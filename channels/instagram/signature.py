"""Meta's webhook signatures: HMAC-SHA256 of the raw request body with the app secret.

The digest is computed over the bytes exactly as received. Re-serialising the parsed JSON
would change escapes (``\\u00e9`` vs ``é``) and spacing, and valid deliveries would fail.
Only ``X-Hub-Signature-256`` counts: the SHA-1 ``X-Hub-Signature`` header is ignored.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for ``body``."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def is_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """True only for a well-formed sha256 signature that matches ``body``."""
    if not app_secret or not header:
        return False
    header = header.strip()
    if not header.lower().startswith(PREFIX):
        return False
    received = header[len(PREFIX) :].lower()
    if len(received) != 64 or not set(received) <= _HEX_DIGITS:
        return False
    expected = sign(app_secret, body)[len(PREFIX) :]
    return hmac.compare_digest(expected.encode("ascii"), received.encode("ascii"))
