"""The action server (`python -m actions.server`) refuses calls without the shared secret."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests

from actions.server import PREVIOUS_SECRET_VARIABLE, SECRET_HEADER
from scripts.stack import ROOT, Stack, free_port

SECRET = "test-action-secret-0123456789"
OLD_SECRET = "old-action-secret-9876543210"


def action_call(action: str) -> Dict[str, Any]:
    """What Rasa posts to /webhook, cut down to what the action reads."""
    return {
        "next_action": action,
        "sender_id": "applicant",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "applicant",
            "slots": {},
            "latest_message": {"intent": {"name": "ask_qa_events"}, "entities": [], "text": "q"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def action_server(tmp_path: Path, secret: str) -> Iterator[Stack]:
    with open(tmp_path / "actions.log", "wb") as log:
        stack = Stack(action_port=free_port(), token="unused", action_secret=secret, log=log)
        stack.start_action_server()
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"http://localhost:{stack.action_port}/health", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "the action server did not start"
                time.sleep(0.3)
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def protected(tmp_path: Path) -> Iterator[Stack]:
    yield from action_server(tmp_path, SECRET)


@pytest.fixture
def rotating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv(PREVIOUS_SECRET_VARIABLE, OLD_SECRET)
    yield from action_server(tmp_path, SECRET)


def base(stack: Stack) -> str:
    return f"http://localhost:{stack.action_port}"


def test_calls_without_the_right_secret_are_refused(protected: Stack) -> None:
    url = base(protected)
    call = action_call("action_show_qa_events")
    assert requests.post(f"{url}/webhook", json=call, timeout=10).status_code == 401
    wrong = {SECRET_HEADER: SECRET[:-1] + "x"}
    assert requests.post(f"{url}/webhook", json=call, headers=wrong, timeout=10).status_code == 401
    assert requests.get(f"{url}/actions", timeout=10).status_code == 401
    assert (
        requests.get(f"{url}/actions", headers={SECRET_HEADER: ""}, timeout=10).status_code == 401
    )


def test_calls_with_the_secret_run_the_action(protected: Stack) -> None:
    url = base(protected)
    headers = {SECRET_HEADER: SECRET}
    listed = requests.get(f"{url}/actions", headers=headers, timeout=10)
    assert listed.status_code == 200
    assert {"name": "action_search_vacancies"} in listed.json()
    ran = requests.post(
        f"{url}/webhook", json=action_call("action_show_qa_events"), headers=headers, timeout=30
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["responses"], "the action answered nothing"


def test_health_and_metrics_stay_open_for_probes(protected: Stack) -> None:
    url = base(protected)
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert requests.get(f"{url}{path}", timeout=10).status_code == 200, path


def test_without_a_secret_the_server_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """An open action server would run the hand-over or the erasure for anyone."""
    monkeypatch.delenv("ACTION_SERVER_SECRET", raising=False)
    monkeypatch.delenv(PREVIOUS_SECRET_VARIABLE, raising=False)
    finished = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode != 0
    assert "ACTION_SERVER_SECRET is not set" in finished.stderr


def test_during_a_rotation_the_previous_secret_is_accepted_too(rotating: Stack) -> None:
    url = f"{base(rotating)}/actions"
    for secret, status in ((SECRET, 200), (OLD_SECRET, 200), ("neither", 401), ("", 401)):
        answer = requests.get(url, headers={SECRET_HEADER: secret}, timeout=10)
        assert answer.status_code == status, secret


def test_a_previous_secret_without_a_current_one_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PREVIOUS_SECRET_VARIABLE, OLD_SECRET)
    monkeypatch.delenv("ACTION_SERVER_SECRET", raising=False)
    finished = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode != 0
    assert "ACTION_SERVER_PREVIOUS_SECRET is set but ACTION_SERVER_SECRET is not" in finished.stderr
