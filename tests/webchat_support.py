"""A socket.io client as the web chat page uses it, for tests against the real Rasa server."""

from __future__ import annotations

import queue
import time
from typing import Any, Dict

import socketio


class ChatClient:
    """One browser tab: a socket, the session id the server confirmed, what it received."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.received: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.errors: queue.Queue[Dict[str, Any]] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.client = socketio.Client()
        self.client.on("bot_uttered", self.received.put)
        self.client.on("error", self.errors.put)
        self.client.on("session_confirm", self.confirmed.put)

    def connect(self) -> None:
        self.client.connect(self.url, socketio_path="socket.io", wait_timeout=30)

    def session(self, proposed: str | None = None) -> str:
        """Ask for a session (proposing `proposed`); the session id the server confirmed."""
        self.client.emit("session_request", {"session_id": proposed})
        return self.confirmed.get(timeout=30)

    def send(self, message: Any, session_id: str | None = None) -> None:
        self.client.emit("user_uttered", {"message": message, "session_id": session_id})

    def next_text(self, timeout: float = 60) -> str:
        return str(self.received.get(timeout=timeout).get("text") or "")

    def wait_for_text(self, expected: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            message = self.received.get(timeout=max(0.1, deadline - time.monotonic()))
            if message.get("text") == expected:
                return

    def close(self) -> None:
        self.client.disconnect()

    def __enter__(self) -> ChatClient:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
