"""Only the Rasa server can run actions, and no secret is on a command line (issue 15).

Against the real processes, started as `make run` starts them (scripts/stack.py): the action
server refuses a forged call, listens on loopback only, and the Rasa token and the action
server's secret appear on no process's command line, which every user of the machine can
read (`ps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Set

import pytest
import requests
from rasa.utils.endpoints import read_endpoint_config

from actions.server import SECRET_HEADER
from scripts.stack import ROOT, Stack, action_endpoint_yaml
from tests.conftest import say, texts
from tests.production.test_action_server_secret import action_call

LISTEN = "0A"  # the TCP state "listening" in /proc/net/tcp


def listening_addresses(port: int) -> Set[str]:
    """The local addresses of the sockets listening on `port` (hex, as /proc shows them)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


IPV4_LOOPBACK = "0100007F"
IPV6_LOOPBACK = "00000000000000000000000001000000"


def command_lines(stack: Stack) -> List[str]:
    lines = []
    for process in stack.processes:
        raw = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        lines.append(raw.replace(b"\0", b" ").decode("utf-8", "replace"))
    return lines


def test_a_forged_action_call_is_refused(stack: Stack) -> None:
    """Without the secret nobody but the Rasa server can run the hand-over or the erasure."""
    for action in ("action_handoff_to_recruiter", "action_answer_offer", "action_show_qa_events"):
        forged = requests.post(stack.action_url, json=action_call(action), timeout=30)
        assert forged.status_code == 401, (action, forged.text)
    wrong = {SECRET_HEADER: "guessed"}
    call = action_call("action_show_qa_events")
    assert requests.post(stack.action_url, json=call, headers=wrong, timeout=30).status_code == 401
    # The Rasa server has the secret, so its action calls still run.
    answer = texts(say(stack, "access-check", "when is the next live Q&A?"))
    assert "Q&A" in answer and "something went wrong" not in answer, answer


def test_the_action_server_listens_on_loopback_only(stack: Stack) -> None:
    addresses = listening_addresses(stack.action_port)
    assert addresses, "nothing listens on the action server's port"
    # Not 0.0.0.0 (00000000) or ::, which any other machine on the network could reach.
    assert addresses <= {IPV4_LOOPBACK, IPV6_LOOPBACK}, addresses


def test_no_secret_is_on_a_command_line(desk_stack: Stack) -> None:
    lines = command_lines(desk_stack)
    assert len(lines) == 3, lines  # action server, Rasa server, desk
    for line in lines:
        assert desk_stack.token not in line, line
        assert desk_stack.action_secret not in line, line
        assert desk_stack.desk_token not in line, line
    # The token still protects the HTTP API: it came from the environment.
    status = f"{desk_stack.url}/status"
    assert requests.get(status, timeout=10).status_code == 401
    params, headers = desk_stack.api_auth()
    assert requests.get(status, params=params, headers=headers, timeout=10).status_code == 200


def test_the_endpoints_files_send_the_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """endpoints.yml (`make run`) and the tests' own send the secret the action server needs."""
    monkeypatch.setenv("ACTION_SERVER_SECRET", "from-the-environment")
    written = tmp_path / "endpoints.yml"
    written.write_text(action_endpoint_yaml(5055), encoding="utf-8")
    for endpoints in (ROOT / "endpoints.yml", written):
        endpoint = read_endpoint_config(str(endpoints), "action_endpoint")
        assert endpoint is not None
        assert endpoint.headers == {SECRET_HEADER: "from-the-environment"}, endpoints
