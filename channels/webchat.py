"""The local web chat page, served by the Rasa server itself.

The page talks to Rasa's own socket.io channel on the same origin, so it needs no CORS
settings. It is a tool for recruiters and trainers to try the assistant, so it is plain
HTML and a little JavaScript, and everything from the bot is inserted as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

PAGE_DIR = Path(__file__).resolve().parent.parent / "webchat"
SOCKETIO_CLIENT = Path(__file__).resolve().parent.parent / "var" / "webchat" / "socket.io.min.js"
ASSETS = {
    "index.html": (PAGE_DIR / "index.html", "text/html"),
    "chat.js": (PAGE_DIR / "chat.js", "text/javascript"),
    "chat.css": (PAGE_DIR / "chat.css", "text/css"),
    "socket.io.min.js": (SOCKETIO_CLIENT, "text/javascript"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class WebChatPage(InputChannel):
    """Serves the page; messages arrive through the socket.io channel, not here."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_page", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            # The page's relative links need the trailing slash.
            return response.redirect(request.path + "/")

        @webchat.route("/<asset:str>", methods=["GET"])
        async def asset(_: Request, asset: str) -> HTTPResponse:
            path, mime_type = ASSETS.get(asset or "index.html", (None, ""))
            if path is None or not path.exists():
                return response.text("not found", status=404)
            return await response.file(path, mime_type=mime_type, headers=SECURITY_HEADERS)

        return webchat
