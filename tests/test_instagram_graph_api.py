"""The Send API client, the output channel and the set-up command, against a local
stand-in for Meta's Graph API that speaks its documented wire format."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from rasa.shared.core.events import Event

from channels.conversation_ids import conversation_id
from channels.instagram.graph_api import HUMAN_AGENT, GraphApiClient, GraphApiError
from channels.instagram.output import InstagramOutput
from channels.instagram.settings import InstagramSettings
from contracts.recruiter_reply import ReplyRefused, reply_event
from scripts.stack import ROOT, free_port
from tests.support.graph_api_stand_in import Failure, GraphApiStandIn
from tests.support.instagram_deliveries import new_sender

TOKEN = "IGAAtest-token-never-logged"


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def settings(graph: GraphApiStandIn) -> InstagramSettings:
    return InstagramSettings(
        verify_token="v",
        app_secret="s",
        access_token=TOKEN,
        graph_url=graph.url,
        graph_version=graph.version,
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
    )


@pytest.fixture
async def client(settings: InstagramSettings) -> AsyncIterator[GraphApiClient]:
    client = GraphApiClient(settings)
    yield client
    await client.close()


async def test_a_text_goes_to_the_send_api_with_the_token_in_a_header(graph, client):
    recipient = new_sender()
    result = await client.send_message(recipient, {"text": "Hello 👋"})
    assert result["recipient_id"] == recipient and result["message_id"].startswith("m_")
    (sent,) = graph.sent_to(recipient)
    assert sent.path == f"/{graph.version}/me/messages"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in sent.query
    assert sent.body == {
        "recipient": {"id": recipient},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello 👋"},
    }


async def test_transient_errors_are_retried_until_success(graph, client):
    recipient = new_sender()
    graph.fail_next(recipient, [Failure(500, code=2), Failure(429, code=4, retry_after="0")])
    await client.send_message(recipient, {"text": "third time lucky"})
    attempts = graph.sent_to(recipient, include_failed=True)
    assert [a.status for a in attempts] == [500, 429, 200]
    assert all(a.body == attempts[0].body for a in attempts)


@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 613])
async def test_rate_limit_codes_are_retried(graph, client, code):
    recipient = new_sender()
    graph.fail_next(recipient, [Failure(400, code=code)])
    await client.send_message(recipient, {"text": "x"})
    assert [a.status for a in graph.sent_to(recipient, include_failed=True)] == [400, 200]


@pytest.mark.parametrize("code, subcode", [(190, 463), (10, 2018278), (551, 1545041)])
async def test_permanent_errors_fail_at_once_and_are_logged_without_secrets(
    graph, client, caplog, code, subcode
):
    recipient = new_sender()
    graph.always_fail(recipient, Failure(400, code=code, subcode=subcode))
    secret_text = "my personal question about my application"
    with caplog.at_level(logging.INFO), pytest.raises(GraphApiError) as raised:
        await client.send_message(recipient, {"text": secret_text})
    assert raised.value.code == code and not raised.value.transient
    assert len(graph.sent_to(recipient, include_failed=True)) == 1
    logged = caplog.text
    assert f"code={code}" in logged and f"subcode={subcode}" in logged and "fbtrace_id=A" in logged
    assert TOKEN not in logged and secret_text not in logged
    assert TOKEN not in str(raised.value) and secret_text not in str(raised.value)


async def test_transient_errors_give_up_after_the_last_attempt(graph, client, settings):
    recipient = new_sender()
    graph.always_fail(recipient, Failure(503))
    with pytest.raises(GraphApiError) as raised:
        await client.send_message(recipient, {"text": "x"})
    assert raised.value.transient and raised.value.attempts == settings.max_attempts
    assert len(graph.sent_to(recipient, include_failed=True)) == settings.max_attempts


async def test_an_unreachable_graph_api_is_retried_then_reported(settings):
    unreachable = dataclasses.replace(settings, graph_url=f"http://127.0.0.1:{free_port()}")
    client = GraphApiClient(unreachable)
    try:
        with pytest.raises(GraphApiError) as raised:
            await client.send_message("1", {"text": "x"})
    finally:
        await client.close()
    assert raised.value.status is None and raised.value.attempts == settings.max_attempts


async def test_typing_indicators_are_sender_actions_tried_once(graph, client):
    recipient = new_sender()
    await client.sender_action(recipient, "typing_on")
    (action,) = graph.actions_to(recipient)
    assert action.body == {"recipient": {"id": recipient}, "sender_action": "typing_on"}


# --- the output channel ----------------------------------------------------------------


async def test_long_answers_are_split_in_order_with_quick_replies_on_the_last(graph, client):
    recipient = new_sender()
    conversation = conversation_id("instagram", recipient)
    text = " ".join(f"Point {i}: vetting checks your background carefully. 🙂" for i in range(50))
    buttons = [{"title": f"Topic number {i} is long", "payload": f"faq/t{i}"} for i in range(15)]
    output = InstagramOutput(client)
    await output.send_response(conversation, {"text": text, "buttons": buttons})
    sent = graph.sent_to(recipient)
    assert len(sent) >= 3 and output.sent == len(sent) and output.failed == 0
    assert " ".join(s.text or "" for s in sent) == text
    assert all(len((s.text or "").encode("utf-8")) <= 1000 for s in sent)
    assert all("quick_replies" not in (s.message or {}) for s in sent[:-1])
    replies = (sent[-1].message or {})["quick_replies"]
    assert len(replies) == 13 and all(len(r["title"]) <= 20 for r in replies)
    assert [r["payload"] for r in replies] == [f"faq/t{i}" for i in range(13)]


async def test_images_are_sent_by_url(graph, client):
    recipient = new_sender()
    conversation = conversation_id("instagram", recipient)
    await InstagramOutput(client).send_response(
        conversation, {"image": "https://www.mi5.gov.uk/careers/image.png"}
    )
    (sent,) = graph.sent_to(recipient)
    assert sent.message == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://www.mi5.gov.uk/careers/image.png"},
        }
    }


async def test_a_recruiters_reply_can_carry_the_human_agent_tag(graph, client):
    recipient = new_sender()
    conversation = conversation_id("instagram", recipient)
    await InstagramOutput(client).human_agent().send_text_message(conversation, "Hi, Sam here.")
    await InstagramOutput(client).send_response(
        conversation, {"text": None, "custom": {"text": "Ignored tag", "tag": "ACCOUNT_UPDATE"}}
    )
    sent = graph.sent_to(recipient)
    assert [(s.body["messaging_type"], s.body.get("tag"), s.text) for s in sent] == [
        ("MESSAGE_TAG", HUMAN_AGENT, "Hi, Sam here."),
        ("RESPONSE", None, "Ignored tag"),
    ]


async def test_the_channel_alone_decides_a_recruiter_replys_window(graph, client):
    """The desk's event says only who typed it (contracts/recruiter_reply.py)."""
    recipient = new_sender()
    conversation = conversation_id("instagram", recipient)
    output = InstagramOutput(client)
    hours = 3600
    for text, age in (("Within a day.", 2 * hours), ("After a day.", 25 * hours)):
        event = reply_event(text, 1, time.time() - age)
        await output.send_response(conversation, Event.from_parameters(event).message())
    with pytest.raises(ReplyRefused, match="7 days"):
        event = reply_event("After a week.", 1, time.time() - 8 * 24 * hours)
        await output.send_response(conversation, Event.from_parameters(event).message())
    sent = graph.sent_to(recipient)
    assert [(s.body["messaging_type"], s.body.get("tag"), s.text) for s in sent] == [
        ("RESPONSE", None, "Within a day."),
        ("MESSAGE_TAG", HUMAN_AGENT, "After a day."),
    ]


async def test_the_output_channel_never_raises_and_stops_a_failed_response(graph, client):
    recipient = new_sender()
    conversation = conversation_id("instagram", recipient)
    graph.always_fail(recipient, Failure(400, code=190))
    output = InstagramOutput(client)
    await output.send_text_message(conversation, "A sentence here. " * 150)  # three parts
    assert output.sent == 0 and output.failed == 1
    assert len(graph.sent_to(recipient, include_failed=True)) == 1


async def test_the_output_channel_sends_only_to_instagram_conversations(graph, client):
    recipient = new_sender()
    output = InstagramOutput(client)
    for elsewhere in (recipient, f"rest:{recipient}", f"webchat:{recipient}", "instagram:"):
        await output.send_text_message(elsewhere, "Hi, Sam here.")
    assert output.sent == 0 and output.failed == 4
    assert graph.sent_to(recipient, include_failed=True) == []


# --- the set-up command ----------------------------------------------------------------


def run_setup(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("INSTAGRAM_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "channels.instagram.setup", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_ice_breakers_file_names_four_answered_topics():
    from channels.instagram.setup import DEFAULT_FILE, load

    ice_breakers = load(DEFAULT_FILE)
    payloads = [item["payload"] for item in ice_breakers.call_to_actions]
    assert len(payloads) == 4 and all(p.startswith("faq/") for p in payloads)
    assert ice_breakers.locale == "default"


def test_a_dry_run_prints_the_request_without_the_token():
    done = run_setup("--dry-run", INSTAGRAM_ACCESS_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    assert "POST https://graph.facebook.com/v25.0/me/messenger_profile?platform=instagram" in (
        done.stdout
    )
    body = json.loads(done.stdout[done.stdout.index("{") : done.stdout.rindex("}") + 1])
    assert body["platform"] == "instagram"
    assert len(body["ice_breakers"][0]["call_to_actions"]) == 4
    assert TOKEN not in done.stdout + done.stderr
    assert "nothing was sent" in done.stdout


def test_the_setup_command_sets_the_ice_breakers(graph):
    done = run_setup(
        INSTAGRAM_ACCESS_TOKEN=TOKEN, INSTAGRAM_GRAPH_URL=graph.url, INSTAGRAM_GRAPH_VERSION="v25.0"
    )
    assert done.returncode == 0, done.stderr
    profile = [r for r in graph.requests if r.path.endswith("/me/messenger_profile")][-1]
    assert profile.query == {"platform": "instagram"}
    assert profile.headers["Authorization"] == f"Bearer {TOKEN}"
    (locale,) = profile.body["ice_breakers"]
    assert locale["locale"] == "default" and len(locale["call_to_actions"]) == 4
    assert all(set(c) == {"question", "payload"} for c in locale["call_to_actions"])


def test_the_setup_command_reports_a_refusal(graph):
    done = run_setup(
        INSTAGRAM_ACCESS_TOKEN="wrong-token",
        INSTAGRAM_GRAPH_URL=graph.url,
        INSTAGRAM_GRAPH_VERSION="v25.0",
    )
    assert done.returncode == 1
    assert "code=190" in done.stderr and "wrong-token" not in done.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        ("ice_breakers: []\n", "1 to 4 ice breakers"),
        (
            "ice_breakers:\n" + "  - {question: Q, payload: faq/process_vetting}\n" * 5,
            "1 to 4 ice breakers, not 5",
        ),
        ("ice_breakers:\n  - {question: Q, payload: faq/no_such_topic}\n", "no answer for FAQ"),
        ("ice_breakers:\n  - {question: Q, payload: /not_an_intent}\n", "not an intent"),
        ("ice_breakers:\n  - {question: Q, payload: hello}\n", "must be 'faq/<topic>'"),
        ("ice_breakers:\n  - {question: '', payload: /greet}\n", "1 to 80 characters"),
        ("ice_breakers: [\n", "not valid YAML"),
    ],
)
def test_a_bad_ice_breakers_file_is_refused_before_sending(tmp_path: Path, content, message):
    path = tmp_path / "ice.yml"
    path.write_text(content, encoding="utf-8")
    done = run_setup("--dry-run", "--file", str(path))
    assert done.returncode == 2
    assert message in done.stderr
