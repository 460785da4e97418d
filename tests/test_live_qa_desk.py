"""The Live Q&A intake API and board on a real desk process, with the Instagram channel's
private-replies endpoint played by a stand-in (tests/support/live_qa.py)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterator

import pytest
import requests

from desk.storage import Store
from tests.desk_support import Browser, desk_cli
from tests.support.live_qa import (
    SERVICE_TOKEN,
    ChannelStandIn,
    LiveDesk,
    channel_stand_in,
    comment,
    live_desk,
)

HOST = "hana"
HOW_TO_APPLY = "faq/process_how_to_apply"
DEGREE = "faq/eligibility_qualifications"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDesk]:
    with (
        channel_stand_in() as channel,
        live_desk(tmp_path_factory.mktemp("live-qa"), channel) as desk,
    ):
        made = desk_cli(desk.database_url, "create-user", HOST, stdin="a long enough password\n")
        assert made.returncode == 0, made.stderr
        yield desk


@pytest.fixture(scope="module")
def host(running: LiveDesk) -> Browser:
    browser = Browser(running.url)
    assert browser.sign_in(HOST).status_code == 302
    return browser


def board(host: Browser, media: str) -> Dict[str, Any]:
    reply = host.request("GET", f"/live-qa.json?media={media}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def csrf_of(host: Browser) -> str:
    return host.csrf("/live-qa")


# Intake: who may post, and what


def test_intake_needs_the_service_token(running: LiveDesk):
    body = comment(1, "how do I apply?", "p-1", media_id="auth")
    assert running.post(token=None, **body).status_code == 401
    assert running.post(token="wrong", **body).status_code == 401
    assert running.post(**body).status_code == 201


def test_intake_is_idempotent_by_comment_id(running: LiveDesk, host: Browser):
    body = comment(2, "how do I apply?", "p-1", HOW_TO_APPLY, media_id="again")
    first = running.post(**body)
    second = running.post(**body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["status"] == "duplicate"
    assert second.json()["question_id"] == first.json()["question_id"]
    assert board(host, "again")["questions"] == 1


@pytest.mark.parametrize(
    "change, says",
    [
        ({"comment_id": None}, "comment_id"),
        ({"text": "x" * 2201}, "2200"),
        ({"text": ""}, "empty"),
        ({"created_time": "now"}, "created_time"),
        ({"abuse": None}, "abuse"),
        ({"topic": "<script>"}, "topic"),
    ],
)
def test_bad_input_gets_a_clear_400(running: LiveDesk, change: Dict[str, Any], says: str):
    reply = running.post(**{**comment(3, "how do I apply?", "p-1", media_id="bad"), **change})
    assert reply.status_code == 400
    assert says in reply.json()["error"]


def test_a_body_that_is_not_json_gets_a_400(running: LiveDesk):
    reply = requests.post(
        f"{running.url}/api/live-questions",
        data="not json",
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 400
    assert "JSON" in reply.json()["error"]


def test_only_redacted_text_is_stored_and_abuse_is_hidden(running: LiveDesk, host: Browser):
    personal = "my name is Sarah Jones, text me on 07700 900123 or sarah@example.com. Age limit?"
    running.post(**comment(10, personal, "pseudonym-sarah", media_id="redact"))
    running.post(**comment(11, "you are all idiots", "pseudonym-troll", abuse=True,
                           media_id="redact"))  # fmt: skip
    found = board(host, "redact")
    [group] = found["groups"]
    assert group["examples"] == ["my name is [NAME], text me on [PHONE] or [EMAIL]. Age limit?"]
    assert found["abuse_hidden"] == 1
    # Nothing personal in the database either: no text, username or pseudonym in the clear.
    with Store(running.database_url).engine.connect() as db:
        dump = " ".join(
            str(row) for table in ("desk_live_qa_questions", "desk_live_qa_groups")
            for row in db.exec_driver_sql(f"SELECT * FROM {table}")
        )  # fmt: skip
    for secret in ("Sarah", "07700", "sarah@", "idiots", "pseudonym-"):
        assert secret not in dump


# The board: signed-in users only, actions with CSRF, audited


def test_the_board_is_for_signed_in_desk_users(running: LiveDesk):
    stranger = Browser(running.url)
    assert stranger.request("GET", "/live-qa").headers["Location"] == "/login"
    assert stranger.request("GET", "/live-qa.json").status_code == 401
    assert stranger.request("GET", "/live-qa.csv?media=x").headers["Location"] == "/login"
    for action in ("state", "send"):
        posted = stranger.request("POST", f"/live-qa/groups/1/{action}", data={"csrf": "x"})
        assert posted.status_code == 401


@pytest.mark.parametrize("group", ["99999999999999999999", "9223372036854775808", "0", "-1"])
def test_malformed_or_unknown_group_ids_are_not_found(host: Browser, group: str):
    token = csrf_of(host)
    for action, data in (("state", {"state": "hidden"}), ("send", {})):
        reply = host.request(
            "POST", f"/live-qa/groups/{group}/{action}", data={"csrf": token, **data}
        )
        assert reply.status_code == 404, (action, reply.status_code, reply.text[:200])


def test_the_page_links_the_board_and_its_script(host: Browser):
    page = host.request("GET", "/live-qa")
    assert page.status_code == 200
    assert 'id="nav-live-qa"' in page.text and "/live-qa/board.js" in page.text
    script = host.request("GET", "/live-qa/board.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert "innerHTML" not in script.text


def test_actions_need_the_csrf_token_and_are_audited(running: LiveDesk, host: Browser):
    group_id = running.post(**comment(20, "is there a dress code", "p-1", media_id="act")).json()[
        "group_id"
    ]
    forged = host.request("POST", f"/live-qa/groups/{group_id}/state", data={"state": "hidden"})
    assert forged.status_code == 403
    token = csrf_of(host)
    path = f"/live-qa/groups/{group_id}/state"
    assert host.request("POST", path, data={"csrf": token, "state": "nonsense"}).status_code == 400
    done = host.request("POST", path, data={"csrf": token, "state": "answered"})
    assert done.status_code == 302 and "media=act" in done.headers["Location"]
    assert board(host, "act")["groups"][0]["state"] == "answered"
    host.request("POST", path, data={"csrf": token, "state": "hidden"})
    assert board(host, "act")["groups"][0]["state"] == "hidden"
    missing = host.request("POST", "/live-qa/groups/999999/state",
                           data={"csrf": token, "state": "hidden"})  # fmt: skip
    assert missing.status_code == 404
    log = Store(running.database_url).audit_log()
    assert [(e["actor"], e["action"]) for e in log[:2]] == [
        (HOST, "live q&a hidden"), (HOST, "live q&a answered"),
    ]  # fmt: skip


def test_send_privately_replies_once_per_person_and_never_twice(running: LiveDesk, host: Browser):
    channel: ChannelStandIn = running.channel
    before = len(channel.calls)
    ids = []
    for number, who in enumerate(["p-a", "p-b", "p-c", "p-a"], start=30):
        body = comment(number, "how do I apply?", who, HOW_TO_APPLY, media_id="send")
        ids.append(body["comment_id"])
        group_id = running.post(**body).json()["group_id"]
    channel.statuses[ids[1]] = "expired"
    token = csrf_of(host)
    sent = host.request("POST", f"/live-qa/groups/{group_id}/send", data={"csrf": token})
    assert sent.status_code == 302
    assert "2%20sent" in sent.headers["Location"] and "1%20expired" in sent.headers["Location"]
    # One request with one reply each for p-a (latest comment), p-b and p-c.
    assert len(channel.calls) == before + 1
    assert sorted(channel.calls[-1], key=lambda r: r["comment_id"]) == [
        {"comment_id": ids[1], "topic": HOW_TO_APPLY},
        {"comment_id": ids[2], "topic": HOW_TO_APPLY},
        {"comment_id": ids[3], "topic": HOW_TO_APPLY},
    ]
    # A second click asks the channel for nobody.
    again = host.request("POST", f"/live-qa/groups/{group_id}/send", data={"csrf": token})
    assert "nobody" in again.headers["Location"]
    assert len(channel.calls) == before + 1
    assert board(host, "send")["groups"][0]["replies"] == {"sent": 2, "expired": 1}
    log = Store(running.database_url).audit_log()
    assert log[1]["action"] == "live q&a sent privately" and "sent 2" in log[1]["detail"]


def test_a_group_without_a_topic_has_no_answer_to_send(running: LiveDesk, host: Browser):
    group_id = running.post(**comment(40, "what's your favourite colour", "p-1",
                                      media_id="no-topic")).json()["group_id"]  # fmt: skip
    assert board(host, "no-topic")["groups"][0]["can_send"] is False
    refused = host.request("POST", f"/live-qa/groups/{group_id}/send", data={"csrf": csrf_of(host)})
    assert refused.status_code == 409


def test_the_csv_export_has_groups_and_counts_and_names_nobody(running: LiveDesk, host: Browser):
    for number, who in enumerate(["pseudo-x", "pseudo-y", "pseudo-z"], start=50):
        topic = HOW_TO_APPLY if number < 52 else None
        running.post(**comment(number, "=HYPERLINK(\"http://x\") how to apply", who, topic,
                               media_id="csv"))  # fmt: skip
    running.post(**comment(53, "rude", "pseudo-w", abuse=True, media_id="csv"))
    reply = host.request("GET", "/live-qa.csv?media=csv")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    text = reply.text
    assert "pseudo" not in text
    assert not any(f"1789{number:08d}" in text for number in range(50, 54)), "no comment ids"
    assert "How to apply" in text and "hidden as abuse" in text
    assert not re.search(r'(^|,)"?=', text, re.M), "no cell a spreadsheet would run"
    assert Store(running.database_url).audit_log()[0]["action"] == "live q&a exported"


def test_two_hosts_sending_at_once_reply_once_to_each(running: LiveDesk, host: Browser):
    channel: ChannelStandIn = running.channel
    other = Browser(running.url)
    assert other.sign_in(HOST).status_code == 302
    people = [f"p-{n}" for n in range(30)]
    for number, who in enumerate(people, start=60):
        body = comment(number, "do I need a degree?", who, DEGREE, media_id="together")
        group_id = running.post(**body).json()["group_id"]
    before = len(channel.replied_comments())
    path = f"/live-qa/groups/{group_id}/send"
    forms = [(host, {"csrf": csrf_of(host)}), (other, {"csrf": other.csrf("/live-qa")})]
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda each: each[0].request("POST", path, data=each[1]), forms))
    assert [reply.status_code for reply in replies] == [302, 302]
    replied = channel.replied_comments()[before:]
    assert len(replied) == len(set(replied)) == len(people)
