"""No applicant text in any log line of any process, on any channel or error path (issue 15).

One marker word goes through every channel (REST, socket.io, Instagram with the Graph API
stand-in, the recruiter desk) and every error path the test can provoke: bad types, a huge
body, a failing Graph API, a tracker store database that is locked, and an action server
that is down. All four processes (Rasa server, action server, desk; the channels run in the
Rasa server) write to one log at INFO, libraries included; the marker must appear nowhere in
it: not in messages, structured fields, exception messages or the local variables of an
exception's frames.
"""

from __future__ import annotations

import queue
import signal
import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests
import socketio

from scripts.stack import Stack, action_endpoint_yaml, free_port
from tests.desk_support import desk_cli
from tests.support.graph_api_stand_in import Failure, GraphApiStandIn
from tests.support.instagram_deliveries import Deliveries, encode, new_sender, signed_headers
from tests.support.instagram_stack import Secrets

KEYS = Secrets()
CREDENTIALS = (
    "rest:\n"
    "socketio:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"
    "  session_persistence: true\n"
    "channels.instagram.InstagramInput:\n"
    "rasa_server.ops.OpsInput:\n"
)


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="careers-log-marker-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def servers(trained_model: Path, graph: GraphApiStandIn, workdir: Path) -> Iterator[Stack]:
    """Rasa server (REST, socket.io, Instagram), action server and desk, logging at INFO."""
    action_port = free_port()
    (workdir / "credentials.yml").write_text(CREDENTIALS, encoding="utf-8")
    (workdir / "endpoints.yml").write_text(
        action_endpoint_yaml(action_port)
        + "tracker_store:\n  type: rasa_server.tracker_store.ErasingSQLTrackerStore\n"
        f'  dialect: sqlite\n  db: "{workdir}/tracker.db"\n',
        encoding="utf-8",
    )
    env = {
        "INSTAGRAM_VERIFY_TOKEN": KEYS.verify_token,
        "INSTAGRAM_APP_SECRET": KEYS.app_secret,
        "INSTAGRAM_ACCESS_TOKEN": KEYS.access_token,
        "INSTAGRAM_GRAPH_URL": graph.url,
        "DESK_DATABASE_URL": f"sqlite:///{workdir}/tracker.db",
        "LOG_LEVEL": "INFO",
        "LOG_LEVEL_LIBRARIES": "INFO",
    }
    with open(workdir / "servers.log", "wb") as log:
        stack = Stack(
            rasa_port=free_port(),
            action_port=action_port,
            token="log-marker-token",
            endpoints=workdir / "endpoints.yml",
            credentials=workdir / "credentials.yml",
            model=trained_model,
            log=log,
            env=env,
            desk_port=free_port(),
        )
        with stack.running(timeout=300):
            yield stack


def rest(stack: Stack, body: Any, raw: bytes | None = None) -> requests.Response:
    url = f"{stack.url}/webhooks/rest/webhook"
    if raw is not None:
        return requests.post(url, data=raw, timeout=120)
    return requests.post(url, json=body, timeout=120)


def instagram(stack: Stack, payload: Dict[str, Any]) -> requests.Response:
    body = encode(payload)
    return requests.post(
        f"{stack.url}/webhooks/instagram/webhook",
        data=body,
        headers=signed_headers(KEYS.app_secret, body),
        timeout=30,
    )


def through_socketio(stack: Stack, text: str) -> None:
    received: queue.Queue[Dict[str, Any]] = queue.Queue()
    client = socketio.Client()
    client.on("bot_uttered", received.put)
    client.connect(stack.url, socketio_path="socket.io", wait_timeout=30)
    try:
        session_id = uuid.uuid4().hex
        client.emit("session_request", {"session_id": session_id})
        client.emit("user_uttered", {"message": text, "session_id": session_id})
        received.get(timeout=60)
        for bad in (123, None, {"nested": text}):
            client.emit("user_uttered", {"message": bad, "session_id": session_id})
    finally:
        client.disconnect()


def through_instagram(stack: Stack, graph: GraphApiStandIn, text: str) -> None:
    """The Graph API refuses every send to this applicant."""
    sender = new_sender()
    graph.always_fail(sender, Failure(status=500, code=2, error_type="OAuthException"))
    deliveries = Deliveries()
    assert instagram(stack, deliveries.delivery(deliveries.text(sender, text))).status_code == 200
    assert graph.wait_for(lambda: bool(graph.sent_to(sender, include_failed=True)), 90)


def through_the_desk(stack: Stack, text: str, sender: str) -> None:
    """A hand-over whose preview holds the marker; a recruiter reads and replies to it."""
    rest(stack, {"sender": sender, "message": f"can I talk to a recruiter about {text}"})
    database_url = stack.env["DESK_DATABASE_URL"]
    made = desk_cli(database_url, "create-user", "logs", stdin="a long enough password\n")
    assert made.returncode == 0, made.stderr
    token = desk_cli(database_url, "create-token", "logs").stdout.strip()
    api = f"{stack.desk_url}/api/handoffs"
    headers = {"Authorization": f"Bearer {token}"}
    [handoff] = [
        h
        for h in requests.get(api, headers=headers, timeout=30).json()["handoffs"]
        if h["sender_id"] == sender
    ]
    requests.post(f"{api}/{handoff['id']}/claim", headers=headers, timeout=30)
    reply = {"text": f"About {text}: yes"}
    requests.post(f"{api}/{handoff['id']}/messages", headers=headers, json=reply, timeout=60)
    requests.get(f"{api}/{handoff['id']}", headers=headers, timeout=30)


def test_the_marker_is_in_no_log_line_of_any_process(
    servers: Stack, graph: GraphApiStandIn, workdir: Path
) -> None:
    marker = f"Quokkamarker{uuid.uuid4().hex[:8]}"
    sender = f"marker-{uuid.uuid4().hex[:8]}"
    rest(servers, {"sender": sender, "message": f"hi, I'm {marker}"})
    rest(servers, {"sender": sender, "message": f"any {marker} jobs in manchester?"})
    # Bad types and bodies (answered 4xx or 200 with nothing; never logged).
    for body in ({"sender": sender, "message": 123, "note": marker}, [marker], {"message": marker}):
        rest(servers, body)
    rest(servers, None, raw=f'{{"sender": "{sender}", "message": "{marker}'.encode())
    rest(servers, {"sender": sender, "message": f"{marker} " * 250_000})  # 3 MB, too long
    through_socketio(servers, f"hello from {marker}")
    through_instagram(servers, graph, f"hello, I'm {marker} on Instagram")
    through_the_desk(servers, marker, f"desk-{sender}")

    # The tracker store's database is locked: Rasa cannot read or save the conversation.
    outage = sqlite3.connect(workdir / "tracker.db", isolation_level=None, timeout=30)
    outage.execute("BEGIN EXCLUSIVE")
    try:
        rest(servers, {"sender": sender, "message": f"during the outage, {marker}"})
    finally:
        outage.execute("ROLLBACK")
        outage.close()

    # The action server is down: custom actions fail.
    action_server = servers.processes[0]
    action_server.send_signal(signal.SIGINT)
    action_server.wait(30)
    rest(servers, {"sender": sender, "message": f"any {marker} jobs in london?"})
    rest(servers, {"sender": sender, "message": f"can I talk to a person about {marker}"})

    log = (workdir / "servers.log").read_text(encoding="utf-8", errors="replace")
    assert "Rasa server is up and running" in log  # it did log at INFO
    leaks = [line for line in log.splitlines() if marker.lower() in line.lower()]
    assert not leaks, "\n".join(line[:600] for line in leaks[:5])
