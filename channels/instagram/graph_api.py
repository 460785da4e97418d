"""The Graph API calls the channel makes: the Send API, private replies to comments, the
account's live broadcasts and the messenger profile.

Transient failures (HTTP 5xx, 429, Graph error codes 1, 2, 4, 17, 32 and 613, and
network errors) are retried with exponential backoff and jitter; permanent ones (190
invalid token, 10 outside the messaging window, 551 user unavailable, and any other
client error) fail at once, because repeating them only burns rate limit.

Failures are logged with the HTTP status, the Graph error code and Meta's trace id,
never with the access token or the text being sent: the token travels in an
Authorization header rather than the URL so that it cannot leak into logs either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any, Dict, List, Mapping

import aiohttp

from channels.instagram.settings import InstagramSettings
from observability.metrics import GRAPH_API_ERRORS

logger = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})
PERMANENT_CODES = {
    190: "access token invalid or expired",
    10: "outside the messaging window or permission missing",
    551: "user unavailable",
}
HUMAN_AGENT = "HUMAN_AGENT"
# A typing indicator that takes longer than this is not worth waiting for.
SENDER_ACTION_TIMEOUT_SECONDS = 3.0
TYPING_ON = "typing_on"
TYPING_OFF = "typing_off"


class GraphApiError(Exception):
    """A failed Graph API call. Its text names codes only, never content or secrets."""

    def __init__(
        self,
        status: int | None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
        transient: bool = False,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        self.transient = transient
        self.attempts = attempts
        super().__init__(self.describe())

    def code_label(self) -> str:
        """The metric label: the Graph error code, else http_<status>, else network."""
        if self.code is not None:
            return str(self.code)
        return f"http_{self.status}" if self.status is not None else "network"

    def describe(self) -> str:
        meaning = PERMANENT_CODES.get(self.code or -1, "")
        return (
            f"status={self.status} code={self.code} subcode={self.subcode} "
            f"type={self.error_type} fbtrace_id={self.fbtrace_id} "
            f"transient={self.transient} attempts={self.attempts}"
            + (f" ({meaning})" if meaning else "")
        )


def classify(status: int | None, body: bytes) -> GraphApiError:
    """A GraphApiError from an error response, deciding whether retrying can help."""
    error: Mapping[str, Any] = {}
    try:
        parsed = json.loads(body.decode("utf-8")) if body else {}
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            error = parsed["error"]
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    code = _int_or_none(error.get("code"))
    if code in PERMANENT_CODES:
        transient = False
    elif code in TRANSIENT_CODES or error.get("is_transient") is True:
        transient = True
    else:
        transient = status is None or status == 429 or status >= 500
    return GraphApiError(
        status=status,
        code=code,
        subcode=_int_or_none(error.get("error_subcode")),
        error_type=str(error["type"]) if "type" in error else None,
        fbtrace_id=str(error["fbtrace_id"]) if "fbtrace_id" in error else None,
        transient=transient,
    )


class GraphApiClient:
    """One aiohttp session, opened on first use inside the running event loop."""

    def __init__(self, settings: InstagramSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def send_message(
        self, recipient_id: str, message: Dict[str, Any], tag: str | None = None
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "recipient": {"id": recipient_id},
            "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
            "message": message,
        }
        if tag:
            body["tag"] = tag
        return await self.post("me/messages", body)

    async def send_private_reply(
        self, account_id: str, comment_id: str, text: str
    ) -> Dict[str, Any]:
        """One private reply to a comment: ``POST /<IG_ID>/messages`` with
        ``recipient.comment_id``. Meta accepts one per comment, so it is never retried
        once Meta may have taken it; only answers that prove it did not (429, the
        transient codes) are retried, by the same rules as any send."""
        body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
        return await self.post(f"{account_id}/messages", body)

    async def live_media_ids(self, account_id: str) -> List[str]:
        """The ids of the account's live broadcasts running now (``GET /<IG_ID>/live_media``
        returns only media being broadcast at the time of the request)."""
        found = await self.get(f"{account_id}/live_media", {"fields": "id"}, attempts=2)
        data = found.get("data")
        if not isinstance(data, list):
            return []
        return [str(item["id"]) for item in data if isinstance(item, dict) and item.get("id")]

    async def sender_action(self, recipient_id: str, action: str) -> None:
        """Typing indicators are cosmetic: one short attempt, so they never hold up a reply."""
        body = {"recipient": {"id": recipient_id}, "sender_action": action}
        await self.post("me/messages", body, attempts=1, timeout=SENDER_ACTION_TIMEOUT_SECONDS)

    async def set_ice_breakers(
        self, call_to_actions: List[Dict[str, str]], locale: str = "default"
    ) -> Dict[str, Any]:
        body = {
            "platform": "instagram",
            "ice_breakers": [{"call_to_actions": call_to_actions, "locale": locale}],
        }
        return await self.post("me/messenger_profile", body, params={"platform": "instagram"})

    async def get(
        self, path: str, params: Dict[str, str] | None = None, attempts: int | None = None
    ) -> Dict[str, Any]:
        return await self.post(path, None, attempts=attempts, params=params, method="GET")

    async def post(
        self,
        path: str,
        body: Dict[str, Any] | None,
        attempts: int | None = None,
        params: Dict[str, str] | None = None,
        timeout: float | None = None,
        method: str = "POST",
    ) -> Dict[str, Any]:
        attempts = attempts or self._settings.max_attempts
        # Only override the session's timeout when asked: timeout=None would disable it.
        extra: Dict[str, Any] = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout else {}
        url = f"{self._settings.api_base}/{path}"
        session = await self._open()
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                async with session.request(
                    method, url, json=body, params=params, headers=self._headers(), **extra
                ) as response:
                    raw = await response.read()
                    if 200 <= response.status < 300:
                        return _json_object(raw)
                    error = classify(response.status, raw)
                    retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exception:
                error = GraphApiError(status=None, error_type=type(exception).__name__)
                error.transient = True
            error.attempts = attempt
            if not error.transient or attempt == attempts:
                GRAPH_API_ERRORS.labels(outcome="failed", code=error.code_label()).inc()
                logger.error("instagram.graph_api.failed path=%s %s", path, error.describe())
                raise error
            GRAPH_API_ERRORS.labels(outcome="retried", code=error.code_label()).inc()
            delay = self._backoff(attempt, retry_after)
            logger.warning(
                "instagram.graph_api.retry path=%s %s retry_in=%.2fs",
                path,
                error.describe(),
                delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            total = self._settings.request_timeout_seconds
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=total, connect=min(5.0, total)),
                raise_for_status=False,
            )
        return self._session

    def _headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self._settings.access_token}"}

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        base = self._settings.backoff_base_seconds * (2 ** (attempt - 1))
        delay = min(self._settings.backoff_max_seconds, base) * random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._settings.backoff_max_seconds))
        return delay


def _json_object(raw: bytes) -> Dict[str, Any]:
    try:
        parsed = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
