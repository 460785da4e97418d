"""The Rasa server's HTTP API, as the desk uses it: read a conversation, add events to it.

Recruiter replies are `bot` events added with execute_side_effects and the handoff's own
channel as `output_channel`, so Rasa sends them where the applicant is (the channel recorded
when the handoff was opened, never "the latest input channel", which anyone able to add an
event could move), and they stay in the conversation. Their shape is the channel-neutral
contract in contracts/recruiter_reply.py: the channel decides what it allows (Instagram's
windows and its HUMAN_AGENT tag), and a reply it refuses comes back as WindowClosed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

import aiohttp

from contracts.rasa_api_auth import signed_admin_token
from contracts.recruiter_reply import refusal_in
from contracts.recruiter_reply import reply_event as neutral_reply_event


class DeliveryError(RuntimeError):
    """Rasa did not take the message; the recruiter sees it as not delivered."""


class WindowClosed(DeliveryError):
    """The channel no longer lets us message this applicant."""


class RasaApi:
    """With `jwt_secret` (production), requests carry `Authorization: Bearer <JWT>`; else the
    token goes in the query string, as `rasa run --auth-token` wants."""

    def __init__(self, url: str, token: str, timeout_s: float, jwt_secret: str = "") -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._jwt_secret = jwt_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _auth(self) -> Tuple[Dict[str, str], Dict[str, str]]:
        """Query parameters and headers that authenticate one request."""
        if self._jwt_secret:
            return {}, {"Authorization": f"Bearer {signed_admin_token(self._jwt_secret)}"}
        return {"token": self._token}, {}

    def _conversation(self, sender_id: str) -> str:
        # Rasa does not unquote the id in the path, so the namespace's ":" goes as it is.
        return f"{self._url}/conversations/{quote(sender_id, safe=':')}"

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        url = f"{self._conversation(sender_id)}/tracker"
        params, headers = self._auth()
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(url, params=params, headers=headers) as response,
            ):
                if response.status != 200:
                    raise DeliveryError(f"Rasa answered HTTP {response.status}")
                return dict(await response.json())
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DeliveryError(f"cannot reach the Rasa server: {error!r}") from error

    async def append(self, sender_id: str, events: List[Dict[str, Any]], channel: str) -> None:
        """Add events and send any bot messages among them to the applicant on `channel`."""
        url = f"{self._conversation(sender_id)}/tracker/events"
        auth, headers = self._auth()
        params = {**auth, "output_channel": channel, "execute_side_effects": "true"}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(url, params=params, json=events, headers=headers) as response,
            ):
                if response.status != 200:
                    body = await response.text()
                    refused = refusal_in(_error_message(body))
                    if refused is not None:
                        raise WindowClosed(refused)
                    raise DeliveryError(f"Rasa answered HTTP {response.status}: {body[:300]}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DeliveryError(f"cannot reach the Rasa server: {error!r}") from error


def _error_message(body: str) -> str:
    """The `message` of Rasa's JSON error answer (the body itself if it is not one)."""
    try:
        found = json.loads(body)
    except ValueError:
        return body
    return str(found.get("message") or "") if isinstance(found, dict) else body


def last_applicant_message_at(tracker: Dict[str, Any]) -> float | None:
    times = [e.get("timestamp") for e in tracker.get("events") or [] if e.get("event") == "user"]
    return max((t for t in times if t), default=None)


def reply_event(tracker: Dict[str, Any], text: str, handoff_id: int) -> Dict[str, Any]:
    """The bot event for a recruiter's reply: typed by a person, after the applicant's last
    message (contracts/recruiter_reply.py); the channel decides how it may go out."""
    return neutral_reply_event(text, handoff_id, last_applicant_message_at(tracker))
