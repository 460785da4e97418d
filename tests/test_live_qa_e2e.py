"""The Live Q&A across the real services: signed live comments in Meta's shape reach the real
Rasa server's Instagram channel (Graph API played by the local stand-in), which forwards them
to the real desk's board; the host's "send answer privately" goes back through the channel,
which never sends a second private reply to a comment it has answered already.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import requests

from scripts.stack import Stack
from tests.desk_support import PASSWORD, Browser, desk_cli
from tests.support.graph_api_stand_in import GraphApiStandIn
from tests.support.instagram_deliveries import (
    ACCOUNT_ID,
    Deliveries,
    encode,
    new_comment_id,
    new_sender,
    signed_headers,
)
from tests.support.instagram_stack import Secrets, rasa_with_instagram

KEYS = Secrets()
LIVE_MEDIA = "18000000000000888"
QUESTION = "how do I apply for a job at MI5?"
HOST = "hana"
WAIT_S = 120.0
d = Deliveries()


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def stack(trained_model: Path, graph: GraphApiStandIn) -> Iterator[Stack]:
    """The Rasa server, the action server and the desk, sharing one service token."""
    with (
        tempfile.TemporaryDirectory(prefix="careers-live-qa-e2e-") as tmp,
        rasa_with_instagram(trained_model, graph.url, KEYS, Path(tmp)) as running,
    ):
        made = desk_cli(running.env["DESK_DATABASE_URL"], "create-user", HOST,
                        stdin=PASSWORD + "\n")  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield running


def deliver(stack: Stack, payload: Any) -> None:
    body = encode(payload)
    reply = requests.post(
        f"{stack.url}/webhooks/instagram/webhook",
        data=body,
        headers=signed_headers(KEYS.app_secret, body),
        timeout=30,
    )
    assert reply.status_code == 200, reply.text


def board_when(host: Browser, ready: Any) -> Dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        found = host.request("GET", f"/live-qa.json?media={LIVE_MEDIA}").json()
        if ready(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_live_comments_reach_the_board_and_its_answer_goes_back_once(
    stack: Stack, graph: GraphApiStandIn
):
    graph.start_live(ACCOUNT_ID, LIVE_MEDIA)
    asked = {new_sender(): new_comment_id() for _ in range(3)}
    abusive = new_comment_id()
    changes = [d.live_comment(QUESTION, LIVE_MEDIA, who, comment) for who, comment in asked.items()]
    changes.append(d.live_comment("you lot are useless idiots", LIVE_MEDIA, new_sender(), abusive))
    deliver(stack, d.changes(*changes))

    # The channel answers each careers comment privately by itself: once each.
    def each_answered() -> bool:
        return all(len(graph.private_replies_to(c)) == 1 for c in asked.values())

    assert graph.wait_for(each_answered, WAIT_S)

    host = Browser(stack.desk_url)
    assert host.sign_in(HOST).status_code == 302
    board = board_when(host, lambda b: b.get("questions") == 3 and b.get("abuse_hidden") == 1)
    [group] = board["groups"]
    assert (group["people"], group["examples"], group["can_send"]) == (3, [QUESTION], True)
    assert group["title"] == "How to apply", group
    assert "idiots" not in str(board)

    # The host sends the answer privately: the channel has answered them all already.
    token = host.csrf("/live-qa")
    sent = host.request("POST", f"/live-qa/groups/{group['id']}/send", data={"csrf": token})
    assert sent.status_code == 302
    assert "3%20duplicate" in sent.headers["Location"], sent.headers["Location"]
    for comment in asked.values():
        assert len(graph.private_replies_to(comment)) == 1
    assert graph.private_replies_to(abusive) == []
    again = host.request("POST", f"/live-qa/groups/{group['id']}/send", data={"csrf": token})
    assert "nobody" in again.headers["Location"]
