"""Helpers for the recruiter desk tests: a desk process, accounts, and a stand-in Rasa API.

The stand-in speaks the Rasa HTTP API's wire format (GET .../tracker, POST
.../tracker/events) so desk-only tests need no model; the whole flow with the real Rasa
server is in tests/test_handoff_flow.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from desk.storage import NewHandoff, Store, migrate
from scripts.stack import ROOT, Stack, free_port, quiet_env

PASSWORD = "a long enough password"
TOKEN = "stand-in-token"


class StandInRasa(ThreadingHTTPServer):
    """Conversations by sender id; `fail` makes every POST answer HTTP 500 like Rasa does."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RasaHandler)
        self.trackers: Dict[str, Dict[str, Any]] = {}
        self.posted: List[tuple[str, List[Dict[str, Any]]]] = []
        self.output_channels: List[str] = []  # the `output_channel` of each POST
        self.fail = False
        # A channel's refusal of a recruiter reply (contracts/recruiter_reply.py), answered
        # as Rasa's HTTP API does: 500, nothing stored.
        self.refusal: str | None = None
        self.refused: List[tuple[str, List[Dict[str, Any]]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def conversation(self, sender: str, channel: str, *messages: tuple[str, float]) -> None:
        self.trackers[sender] = {
            "sender_id": sender,
            "latest_input_channel": channel,
            "events": [{"event": "user", "text": text, "timestamp": at} for text, at in messages],
        }


class _RasaHandler(BaseHTTPRequestHandler):
    server: StandInRasa

    def _sender(self) -> str | None:
        match = re.match(r"^/conversations/([^/]+)/tracker(/events)?$", urlsplit(self.path).path)
        return unquote(match.group(1)) if match else None

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        sender = self._sender()
        if f"token={TOKEN}" not in self.path:
            return self._answer(401, {"message": "no token"})
        tracker = self.server.trackers.get(sender or "", {"sender_id": sender, "events": []})
        self._answer(200, tracker)

    def do_POST(self) -> None:
        sender = self._sender() or ""
        events = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if f"token={TOKEN}" not in self.path:
            return self._answer(401, {"message": "no token"})
        if self.server.fail:
            return self._answer(500, {"status": "failure", "message": "Graph API error"})
        if self.server.refusal:
            self.server.refused.append((sender, events))
            error = f"An unexpected error occurred. Error: {self.server.refusal}"
            return self._answer(500, {"status": "failure", "message": error})
        self.server.posted.append((sender, events))
        query = parse_qs(urlsplit(self.path).query)
        self.server.output_channels.append((query.get("output_channel") or [""])[0])
        tracker = self.server.trackers.setdefault(sender, {"sender_id": sender, "events": []})
        tracker["events"].extend({**event, "timestamp": time.time()} for event in events)
        self._answer(200, tracker)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def stand_in_rasa() -> Iterator[StandInRasa]:
    server = StandInRasa()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def desk_cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "desk", *args],
        cwd=ROOT,
        env={**quiet_env(), "DESK_DATABASE_URL": database_url},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


class Desk:
    """A running desk process and its database."""

    def __init__(self, stack: Stack, database_url: str) -> None:
        self.stack = stack
        self.database_url = database_url
        self.store = Store(database_url)

    @property
    def url(self) -> str:
        return self.stack.desk_url

    def add_recruiter(self, name: str) -> str:
        """Create an account and return an API token for it."""
        made = desk_cli(self.database_url, "create-user", name, stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        token = desk_cli(self.database_url, "create-token", name)
        assert token.returncode == 0, token.stderr
        return token.stdout.strip()

    def add_handoff(
        self, sender: str, preview: str = "", at: float | None = None, channel: str = "socketio"
    ) -> int:
        return self.store.create_handoff(
            NewHandoff(
                sender_id=sender,
                channel=channel,
                topic="eligibility_residency",
                reason="asked for a person",
                preview=preview,
                transcript=[{"who": "applicant", "text": preview, "at": at or time.time()}],
                created_at=at or time.time(),
            )
        )


@contextmanager
def running_desk(
    tmp_path: Path,
    rasa: StandInRasa,
    env: Dict[str, str] | None = None,
    database_url: str | None = None,
) -> Iterator[Desk]:
    """A desk process on `database_url` (default: a new SQLite file in tmp_path); its service
    token is `desk.stack.desk_token`."""
    database_url = database_url or f"sqlite:///{tmp_path / 'tracker.db'}"
    migrate(database_url)
    with open(tmp_path / "desk.log", "wb") as log:
        stack = Stack(
            rasa_port=rasa.server_address[1],
            token=TOKEN,
            desk_port=free_port(),
            log=log,
            env={
                "DESK_DATABASE_URL": database_url,
                "DESK_LOCKOUT_MINUTES": "15",
                **(env or {}),
            },
        )
        with stack.running(timeout=60, desk_only=True):
            yield Desk(stack, database_url)


class FromAddress(HTTPAdapter):
    """Connections from this local address (any of 127.0.0.0/8 on Linux), so one machine can
    play recruiters and attackers at different source addresses."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """A requests session that keeps the desk's Secure cookies over plain http://127.0.0.1,
    connecting from `address`."""

    def __init__(self, base: str, address: str = "127.0.0.1") -> None:
        self.base = base
        self.cookies: Dict[str, str] = {}
        self.session = requests.Session()
        self.session.mount("http://", FromAddress(address))

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        reply = self.session.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        self.session.cookies.clear()  # this class keeps the cookies, as a browser would
        for cookie in reply.cookies:
            if cookie.value:
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        return reply

    def csrf(self, path: str) -> str:
        page = self.request("GET", path)
        assert page.status_code == 200, page.status_code
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, "every form carries a CSRF token"
        return match.group(1)

    def sign_in(self, name: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf("/login")
        return self.request(
            "POST", "/login", data={"csrf": token, "name": name, "password": password}
        )


def sign_in_browser(driver: WebDriver, desk_url: str, name: str, password: str = PASSWORD) -> None:
    """Sign in through the desk's own form in Chromium, from a clean cookie jar."""
    driver.delete_all_cookies()
    driver.get(f"{desk_url}/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url.rstrip("/") == desk_url)
