"""The private-reply rules, the comment parser and the desk forwarder, against the Graph API
stand-in and a desk stand-in over real HTTP, without the Rasa server.

Each rule (kill switch, covered media, 7 days, live broadcast, one per comment, hourly
cap) is shown to refuse exactly when it should; the end-to-end tests
(tests/test_instagram_comments.py) show the channel applies them to real deliveries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from typing import Any, Iterator, List

import pytest

from channels.instagram.comment_answers import (
    INVITATION,
    ParserThread,
    Understanding,
    private_reply_text,
    understand,
)
from channels.instagram.comment_handler import BadRequest, parse_desk_request
from channels.instagram.comments import parse_changes
from channels.instagram.desk_forward import DeskForwarder, pseudonym
from channels.instagram.events import EventKind, parse_delivery
from channels.instagram.graph_api import GraphApiClient
from channels.instagram.private_replies import CommentRecord, PrivateReplies, ReplyStatus
from channels.instagram.reply_store import InMemoryReplyStore
from channels.instagram.settings import InstagramSettings, SettingsError
from observability.metrics import PRIVATE_REPLIES
from tests.support.desk_stand_in import DeskStandIn
from tests.support.graph_api_stand_in import Failure, GraphApiStandIn
from tests.support.instagram_deliveries import (
    ACCOUNT_ID,
    Deliveries,
    new_comment_id,
    new_sender,
)

TOKEN = "IGAAunit"
SECRETS = {"verify_token": "v", "app_secret": "s" * 32, "access_token": TOKEN}
MEDIA = "18000000000000101"
RESPONSES = {
    "utter_faq/process_how_to_apply": [{"text": "Apply online at mi5.gov.uk/careers."}],
    "utter_faq/long": [{"text": "Word " * 400}],
    "utter_distress": [{"text": "Please call Samaritans on 116 123."}],
    "utter_greet": [{"text": "Hi!"}],
}
d = Deliveries()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=TOKEN) as stand_in:
        yield stand_in


def settings(graph: GraphApiStandIn, **environ: str) -> InstagramSettings:
    loaded = InstagramSettings.load(SECRETS, environ={"INSTAGRAM_GRAPH_URL": graph.url, **environ})
    return dataclasses.replace(loaded, backoff_base_seconds=0.01, backoff_max_seconds=0.05)


def comment(live: bool = False, age_seconds: float = 60, media: str = MEDIA) -> CommentRecord:
    return CommentRecord(new_comment_id(), ACCOUNT_ID, media, int(time.time() - age_seconds), live)


async def send_all(replies: PrivateReplies, records: List[CommentRecord]) -> List[ReplyStatus]:
    return [await replies.send(record, "An answer.") for record in records]


def sent_ok(graph: GraphApiStandIn, record: CommentRecord) -> int:
    return len(graph.private_replies_to(record.comment_id, include_failed=False))


# --- settings ------------------------------------------------------------------------


def test_private_reply_settings_default_on_and_are_checked():
    default = InstagramSettings.load(SECRETS, environ={})
    assert default.private_replies_enabled and default.private_replies_per_hour == 700
    assert default.private_reply_media == frozenset() and default.desk_url.endswith(":5006")
    custom = InstagramSettings.load(
        SECRETS,
        environ={
            "INSTAGRAM_PRIVATE_REPLIES": "off",
            "INSTAGRAM_PRIVATE_REPLY_MEDIA": " 1, 2 ,,",
            "INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": "50",
        },
    )
    assert not custom.private_replies_enabled and custom.private_reply_media == {"1", "2"}
    assert custom.private_replies_per_hour == 50
    for bad in (
        {"INSTAGRAM_PRIVATE_REPLIES": "maybe"},
        {"INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": "0"},
        {"INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": "751"},
        {"INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": "lots"},
        {"DESK_URL": "ftp://desk"},
    ):
        with pytest.raises(SettingsError):
            InstagramSettings.load(SECRETS, environ=bad)


# --- the rules -----------------------------------------------------------------------


async def test_one_private_reply_per_comment_id(graph):
    replies = PrivateReplies(settings(graph), GraphApiClient(settings(graph)), InMemoryReplyStore())
    record = comment()
    statuses = await asyncio.gather(*(replies.send(record, "An answer.") for _ in range(5)))
    assert sorted(s.value for s in statuses) == ["duplicate"] * 4 + ["sent"]
    (sent,) = graph.private_replies_to(record.comment_id)
    assert sent.path == f"/v25.0/{ACCOUNT_ID}/messages"
    assert sent.body == {
        "recipient": {"comment_id": record.comment_id},
        "message": {"text": "An answer."},
    }


async def test_the_kill_switch_and_the_media_filter_disable_replies(graph):
    store = InMemoryReplyStore()
    off = settings(graph, INSTAGRAM_PRIVATE_REPLIES="off")
    record = comment()
    assert (
        await PrivateReplies(off, GraphApiClient(off), store).send(record, "x")
        is ReplyStatus.DISABLED
    )
    covered = settings(graph, INSTAGRAM_PRIVATE_REPLY_MEDIA=f"{MEDIA},42")
    replies = PrivateReplies(covered, GraphApiClient(covered), store)
    other = comment(media="18000000000000999")
    assert await replies.send(other, "x") is ReplyStatus.DISABLED
    assert await replies.send(record, "x") is ReplyStatus.SENT
    assert graph.private_replies_to(other.comment_id) == []


async def test_only_within_seven_days_of_the_comment(graph):
    replies = PrivateReplies(settings(graph), GraphApiClient(settings(graph)), InMemoryReplyStore())
    old = comment(age_seconds=7 * 24 * 3600 + 60)
    fresh = comment(age_seconds=7 * 24 * 3600 - 60)
    assert await send_all(replies, [old, fresh]) == [ReplyStatus.EXPIRED, ReplyStatus.SENT]
    assert graph.private_replies_to(old.comment_id) == []


async def test_live_comments_only_while_the_broadcast_runs(graph):
    replies = PrivateReplies(settings(graph), GraphApiClient(settings(graph)), InMemoryReplyStore())
    media = "18000000000000555"
    during, after = comment(live=True, media=media), comment(live=True, media=media)
    graph.start_live(ACCOUNT_ID, media)
    assert await replies.send(during, "x") is ReplyStatus.SENT
    graph.end_live(media)
    replies.live.forget()  # past the cache's few seconds
    assert await replies.send(after, "x") is ReplyStatus.NOT_LIVE
    asked = [r for r in graph.requests if r.path.endswith(f"{ACCOUNT_ID}/live_media")]
    assert asked and all(r.method == "GET" for r in asked)


async def test_the_hourly_cap_counts_and_skips_the_excess_and_frees_up_after_an_hour(graph):
    clock = Clock()
    store = InMemoryReplyStore(clock=clock)
    capped = settings(graph, INSTAGRAM_PRIVATE_REPLIES_PER_HOUR="3")
    replies = PrivateReplies(capped, GraphApiClient(capped), store)
    over_cap = PRIVATE_REPLIES.labels(outcome="over_cap")
    before = over_cap._value.get()
    records = [comment() for _ in range(5)]
    statuses = await send_all(replies, records)
    assert statuses == [ReplyStatus.SENT] * 3 + [ReplyStatus.OVER_CAP] * 2
    assert over_cap._value.get() == before + 2
    assert sum(sent_ok(graph, r) for r in records) == 3
    clock.now += 3601
    # Skipped, not queued: nothing went out by itself; asked again, it may go now.
    assert sum(sent_ok(graph, r) for r in records) == 3
    assert await replies.send(records[3], "x") is ReplyStatus.SENT


async def test_graph_errors_rate_limits_retried_permission_errors_not(graph):
    replies = PrivateReplies(settings(graph), GraphApiClient(settings(graph)), InMemoryReplyStore())
    limited, refused = comment(), comment()
    graph.fail_next(limited.comment_id, [Failure(status=400, code=4), Failure(status=429)])
    graph.always_fail(refused.comment_id, Failure(status=403, code=10))
    assert await send_all(replies, [limited, refused]) == [ReplyStatus.SENT, ReplyStatus.ERROR]
    assert [r.status for r in graph.private_replies_to(limited.comment_id)] == [400, 429, 200]
    assert [r.status for r in graph.private_replies_to(refused.comment_id)] == [403]
    assert await replies.send(refused, "x") is ReplyStatus.DUPLICATE  # not tried blindly again


# --- what a comment says --------------------------------------------------------------


class Agent:
    """Answers parse_message as Rasa's agent does, with a fixed parse."""

    def __init__(self, parsed: Any) -> None:
        self.parsed = parsed
        self.asked: List[str] = []

    async def parse_message(self, text: str) -> Any:
        self.asked.append(text)
        return self.parsed


def faq_parse(key: str) -> Any:
    return {
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": key}}},
    }


async def test_only_answerable_topics_and_safety_get_a_reply_text():
    topic = await understand(Agent(faq_parse("faq/process_how_to_apply")), "how?", RESPONSES)
    assert topic.topic == "faq/process_how_to_apply"
    text = private_reply_text(RESPONSES, topic)
    assert text == "Apply online at mi5.gov.uk/careers.\n\n" + INVITATION
    unknown = await understand(Agent(faq_parse("faq/missing")), "how?", RESPONSES)
    assert unknown.topic is None and private_reply_text(RESPONSES, unknown) is None
    for intent in ("out_of_scope", "nlu_fallback", "greet", "abuse", "thank"):
        understood = await understand(Agent({"intent": {"name": intent}}), "x", RESPONSES)
        assert private_reply_text(RESPONSES, understood) is None
    safety = Understanding(intent="distress")
    assert private_reply_text(RESPONSES, safety) == "Please call Samaritans on 116 123."
    long = private_reply_text(RESPONSES, Understanding("faq", "faq/long"))
    assert long is not None and len(long.encode()) <= 1000 and long.endswith(INVITATION)


async def test_comments_are_parsed_off_the_event_loop():
    seen: List[str] = []

    class Recording(Agent):
        async def parse_message(self, text: str) -> Any:
            seen.append(threading.current_thread().name)
            return await super().parse_message(text)

    parser = ParserThread()
    agent = Recording(faq_parse("faq/process_how_to_apply"))
    understood = await understand(agent, "how do I apply?", RESPONSES, parser)
    parser.close()
    assert understood.topic == "faq/process_how_to_apply"
    assert seen and seen[0].startswith("instagram-comments")


async def test_comments_without_words_are_not_parsed_and_slashes_are_not_intents():
    agent = Agent(faq_parse("faq/process_how_to_apply"))
    for text in ("", "   ", "🔥🔥", "!!!"):
        assert (await understand(agent, text, RESPONSES)).intent is None
    await understand(agent, "/distress", RESPONSES)
    assert agent.asked == ["distress"]


# --- parsing deliveries ---------------------------------------------------------------


def test_comment_changes_are_parsed_and_odd_ones_skipped():
    commenter = new_sender()
    delivery = parse_delivery(
        d.changes(
            d.comment("how do I apply?", commenter, "1", MEDIA, "REELS"),
            d.live_comment("hi", "777", commenter, "2"),
            d.comment("mine", ACCOUNT_ID, "3"),
            {"field": "mentions", "value": {"media_id": "1"}},
            {"field": "comments", "value": {"id": "4"}},
            "junk",  # type: ignore[arg-type]
            sent_at=1_765_000_000_123,
        )
    )
    first, live, own = delivery.comments
    assert (first.comment_id, first.text, first.media_product_type) == (
        "1",
        "how do I apply?",
        "REELS",
    )
    assert first.created_time == 1_765_000_000 and not first.live and not first.own
    assert live.live and live.field == "live_comments" and own.own
    assert delivery.skipped == 3 and delivery.events == []
    assert parse_changes("x", ACCOUNT_ID, 0) == ([], 1)


def test_story_mentions_and_replies_are_recognised_without_keeping_the_story():
    sender = new_sender()
    mention, reply = parse_delivery(
        d.delivery(d.story_mention(sender), d.story_reply(sender, "hi"))
    ).events
    assert mention.kind is EventKind.STORY_MENTION and "lookaside" not in repr(mention)
    assert reply.kind is EventKind.TEXT and reply.story_reply and "lookaside" not in repr(reply)


def test_the_desks_request_is_checked():
    good = {"replies": [{"comment_id": "1", "topic": "faq/process_how_to_apply"}]}
    assert parse_desk_request(good, RESPONSES) == [("1", "faq/process_how_to_apply")]
    bad: Any
    for bad in (
        None,
        [],
        {"replies": []},
        {"replies": good["replies"] * 101},
        {"replies": [{"comment_id": 1, "topic": "faq/process_how_to_apply"}]},
        {"replies": [{"comment_id": "1", "topic": "faq/long "}]},
        {"replies": [{"comment_id": "1", "topic": "greet"}]},
    ):
        with pytest.raises(BadRequest):
            parse_desk_request(bad, RESPONSES)


# --- the desk forwarder ---------------------------------------------------------------


async def test_forwarding_retries_a_desk_that_is_down_and_never_blocks():
    with DeskStandIn(service_token="t" * 32) as desk:
        forwarder = DeskForwarder(
            InstagramSettings.load(
                SECRETS, environ={"DESK_URL": desk.url, "DESK_SERVICE_TOKEN": "t" * 32}
            )
        )
        desk.fail_next(2)
        question = {
            "comment_id": "c1",
            "media_id": "m",
            "text": "q",
            "commenter": forwarder.pseudonym("42"),
            "created_time": 1,
            "topic": None,
            "abuse": False,
        }
        started = time.perf_counter()
        forwarder.forward(question)
        forwarder.forward(question)
        assert time.perf_counter() - started < 0.05
        await forwarder.drain(30)
        await forwarder.close()
        assert [c.status for c in desk.calls_for("c1")].count(201) == 1
        assert [c.status for c in desk.calls_for("c1")][:2] == [503, 503]
    assert (
        pseudonym("t" * 32, "42") == forwarder.pseudonym("42") and len(pseudonym("k", "42")) == 16
    )
    assert pseudonym("k", "42") != pseudonym("other key", "42")


async def test_no_service_token_means_nothing_is_forwarded():
    forwarder = DeskForwarder(InstagramSettings.load(SECRETS, environ={}))
    assert not forwarder.enabled
    forwarder.forward({"comment_id": "x"})
    await forwarder.drain(1)
