"""A local stand-in for Meta's Graph API, for the tests and the benchmark.

It speaks the documented wire format of the Send API (``POST /{version}/me/messages``
and ``/{ig-id}/messages``), private replies (the same path with ``recipient.comment_id``;
a second one to the same comment is refused, as Meta allows one), the account's running
live broadcasts (``GET /{version}/{ig-id}/live_media``: only media being broadcast now;
``start_live``/``end_live`` script them) and the messenger profile (``POST /{version}/me/
messenger_profile``), refuses what Meta refuses (a wrong token with error 190, a text over
1,000 bytes, more than 13 quick replies) and records every request with its arrival time.
It can be told to fail a recipient's next sends (500, 429, error codes) to exercise
retries. It runs in its own thread with its own event loop, so synchronous tests and
the Rasa server under test can both talk to it; it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Tuple

from aiohttp import web

from tests.support.threaded_server import ThreadedAiohttpServer

MAX_TEXT_BYTES = 1000
MAX_QUICK_REPLIES = 13
MAX_TITLE_CHARS = 20


@dataclass
class Recorded:
    at: float  # time.perf_counter() on arrival, comparable within this process
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: Any
    status: int = 200

    @property
    def recipient(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("recipient"), dict):
            return self.body["recipient"].get("id")
        return None

    @property
    def comment_id(self) -> str | None:
        """The comment a private reply answers (``recipient.comment_id``)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("recipient"), dict):
            return self.body["recipient"].get("comment_id")
        return None

    @property
    def message(self) -> Dict[str, Any] | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), dict):
            return self.body["message"]
        return None

    @property
    def text(self) -> str | None:
        message = self.message
        return message.get("text") if message else None

    @property
    def sender_action(self) -> str | None:
        return self.body.get("sender_action") if isinstance(self.body, dict) else None


@dataclass
class Failure:
    status: int
    code: int | None = None
    subcode: int | None = None
    error_type: str = "OAuthException"
    retry_after: str | None = None


def graph_error(
    code: int | None, message: str, subcode: int | None = None, error_type: str = ""
) -> Dict[str, Any]:
    error: Dict[str, Any] = {
        "message": message,
        "type": error_type or "OAuthException",
        "fbtrace_id": f"A{time.time_ns() % 10**10:010d}",
    }
    if code is not None:
        error["code"] = code
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@dataclass
class GraphApiStandIn(ThreadedAiohttpServer):
    access_token: str
    version: str = "v25.0"
    requests: List[Recorded] = field(default_factory=list)
    _failures: Dict[str, Deque[Failure]] = field(default_factory=dict)
    _always: Dict[str, Failure] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _live: Dict[str, str] = field(default_factory=dict)  # live media id -> account id
    _replied_comments: set = field(default_factory=set)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- scripting -------------------------------------------------------------------

    def fail_next(self, recipient_id: str, failures: List[Failure]) -> None:
        """The recipient's next message sends fail like this, in order, then succeed."""
        with self._changed:
            self._failures.setdefault(recipient_id, Deque()).extend(failures)

    def always_fail(self, recipient_id: str, failure: Failure) -> None:
        """Every send to the recipient (an IGSID, or a comment id for private replies) fails."""
        with self._changed:
            self._always[recipient_id] = failure

    def start_live(self, account_id: str, media_id: str) -> None:
        with self._changed:
            self._live[media_id] = account_id

    def end_live(self, media_id: str) -> None:
        with self._changed:
            self._live.pop(media_id, None)

    # --- reading what arrived ----------------------------------------------------------

    def sent_to(self, recipient_id: str, include_failed: bool = False) -> List[Recorded]:
        """Message sends (not sender actions) to a recipient, in arrival order."""
        with self._changed:
            return [
                r
                for r in self.requests
                if r.recipient == recipient_id
                and r.message is not None
                and (include_failed or r.status == 200)
            ]

    def private_replies_to(self, comment_id: str, include_failed: bool = True) -> List[Recorded]:
        """Private replies to a comment, refused ones included unless told otherwise."""
        with self._changed:
            return [
                r
                for r in self.requests
                if r.comment_id == comment_id and (include_failed or r.status == 200)
            ]

    def private_replies(self) -> List[Recorded]:
        with self._changed:
            return [r for r in self.requests if r.comment_id is not None]

    def actions_to(self, recipient_id: str) -> List[Recorded]:
        with self._changed:
            return [r for r in self.requests if r.recipient == recipient_id and r.sender_action]

    def texts_to(self, recipient_id: str) -> List[str]:
        return [r.text or "" for r in self.sent_to(recipient_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Block until ``predicate()`` holds (re-checked on every request) or time runs out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
        return True

    def wait_for_sends(self, recipient_id: str, count: int, timeout: float = 60.0) -> List[str]:
        self.wait_for(lambda: len(self.sent_to(recipient_id)) >= count, timeout)
        return self.texts_to(recipient_id)

    # --- lifecycle ---------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    # --- the API -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        record = Recorded(
            at=time.perf_counter(),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
        )
        status, payload = self._answer(request, record)
        record.status = status
        with self._changed:
            self.requests.append(record)
            self._changed.notify_all()
        headers = {}
        failure_retry = payload.pop("_retry_after", None) if isinstance(payload, dict) else None
        if failure_retry:
            headers["Retry-After"] = failure_retry
        return web.json_response(payload, status=status, headers=headers)

    def _answer(self, request: web.Request, record: Recorded) -> Tuple[int, Dict[str, Any]]:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 400, graph_error(190, "Invalid OAuth access token.")
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and len(parts) == 3 and parts[2] == "live_media":
            return self._live_media(parts[1])
        if request.method != "POST" or len(parts) != 3 or parts[0] != self.version:
            return 400, graph_error(100, "Unsupported request.", error_type="GraphMethodException")
        if parts[2] == "messenger_profile":
            return self._profile(record)
        if parts[2] != "messages":
            return 400, graph_error(100, "Unknown path.", error_type="GraphMethodException")
        return self._messages(record)

    def _profile(self, record: Recorded) -> Tuple[int, Dict[str, Any]]:
        body = record.body if isinstance(record.body, dict) else {}
        if body.get("platform") != "instagram" or not isinstance(body.get("ice_breakers"), list):
            return 400, graph_error(100, "(#100) Invalid ice_breakers.", error_type="")
        return 200, {"result": "success"}

    def _live_media(self, account_id: str) -> Tuple[int, Dict[str, Any]]:
        with self._changed:
            live = [media for media, owner in self._live.items() if owner == account_id]
        return 200, {"data": [{"id": media} for media in live]}

    def _messages(self, record: Recorded) -> Tuple[int, Dict[str, Any]]:
        if record.comment_id is not None:
            return self._private_reply(record)
        recipient = record.recipient
        if not recipient:
            return 400, graph_error(100, "(#100) The parameter recipient is required")
        if record.sender_action:
            if record.sender_action not in ("typing_on", "typing_off", "mark_seen"):
                return 400, graph_error(100, "(#100) Invalid sender_action")
            return 200, {"recipient_id": recipient}
        message = record.message
        if message is None:
            return 400, graph_error(100, "(#100) The parameter message is required")
        failure = self._next_failure(recipient)
        if failure is not None:
            payload = graph_error(failure.code, "Scripted failure.", failure.subcode)
            if failure.retry_after:
                payload["_retry_after"] = failure.retry_after
            return failure.status, payload
        problem = _message_problem(record.body)
        if problem:
            return 400, graph_error(100, problem)
        return 200, {"recipient_id": recipient, "message_id": f"m_standin_{next(self._ids)}"}

    def _private_reply(self, record: Recorded) -> Tuple[int, Dict[str, Any]]:
        comment_id = str(record.comment_id)
        failure = self._next_failure(comment_id)
        if failure is not None:
            return failure.status, graph_error(failure.code, "Scripted failure.", failure.subcode)
        message = record.message or {}
        text = message.get("text")
        if set(message) != {"text"} or not isinstance(text, str) or not text.strip():
            return 400, graph_error(100, "(#100) a private reply is a text message")
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            return 400, graph_error(100, "(#100) Length of param message[text] must be <= 1000")
        with self._changed:
            if comment_id in self._replied_comments:
                return 400, graph_error(10, "(#10) Only one private reply per comment.", 2534023)
            self._replied_comments.add(comment_id)
        return 200, {
            "recipient_id": f"igsid_for_{comment_id}",
            "message_id": f"m_pr_{next(self._ids)}",
        }

    def _next_failure(self, recipient: str) -> Failure | None:
        with self._changed:
            if recipient in self._always:
                return self._always[recipient]
            queue = self._failures.get(recipient)
            return queue.popleft() if queue else None


def _message_problem(body: Dict[str, Any]) -> str | None:
    """What Meta would refuse in a Send API message body, or None."""
    message = body["message"]
    if body.get("messaging_type") not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        return "(#100) messaging_type is invalid"
    if body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") != "HUMAN_AGENT":
        return "(#100) tag is invalid"
    text = message.get("text")
    attachment = message.get("attachment")
    if text is None and attachment is None:
        return "(#100) message must have text or attachment"
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            return "(#100) message[text] must be a non-empty string"
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            return "(#100) Length of param message[text] must be less than or equal to 1000"
    replies = message.get("quick_replies")
    if replies is not None:
        if not isinstance(replies, list) or len(replies) > MAX_QUICK_REPLIES:
            return "(#100) quick_replies must be at most 13"
        for reply in replies:
            if reply.get("content_type") != "text" or not reply.get("payload"):
                return "(#100) quick_reply needs content_type text and a payload"
            if not reply.get("title") or len(reply["title"]) > MAX_TITLE_CHARS:
                return "(#100) quick_reply title must be 1-20 characters"
    if attachment is not None:
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        if attachment.get("type") != "image" or not isinstance(payload, dict):
            return "(#100) only image attachments by URL are used"
        if not str(payload.get("url", "")).startswith(("https://", "http://")):
            return "(#100) attachment url is invalid"
    return None
