"""The Instagram channel's pure parts: signatures, parsing, splitting, dedup, flood, queues."""

from __future__ import annotations

import asyncio
import json
from typing import List

import pytest

from channels.flood import FloodControl, Verdict
from channels.instagram import formatting, signature
from channels.instagram.dedup import InMemorySeenMessageIds
from channels.instagram.events import (
    EventKind,
    MalformedDelivery,
    decode,
    parse_delivery,
)
from channels.instagram.graph_api import classify
from channels.instagram.sender_queues import AckFirst, SenderQueues
from channels.instagram.settings import DEFAULT_GRAPH_URL, InstagramSettings, SettingsError
from tests.support.instagram_deliveries import ACCOUNT_ID, Deliveries, encode

SECRET = "0123456789abcdef0123456789abcdef"
d = Deliveries()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- signatures ------------------------------------------------------------------------


def test_a_signature_over_the_raw_bytes_verifies():
    body = encode(d.delivery(d.text("1", "Pourquoi? Ça coûte 💷 / £")))
    assert b"\\u00c7" in body and b"\\/" in body  # Meta's escapes, kept as sent
    assert signature.is_valid(SECRET, body, signature.sign(SECRET, body))
    hex_digest = signature.sign(SECRET, body)[len("sha256=") :]
    assert signature.is_valid(SECRET, body, "sha256=" + hex_digest.upper())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha256=" + "z" * 64,
        "sha1=" + "0" * 40,
        "md5=abc",
        "0" * 64,
    ],
)
def test_missing_malformed_and_wrong_signatures_fail(header):
    body = b'{"object":"instagram","entry":[]}'
    assert not signature.is_valid(SECRET, body, header)


def test_a_signature_of_reserialised_json_does_not_verify_the_raw_body():
    body = encode(d.delivery(d.text("1", "café")))
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    assert reserialised != body
    assert not signature.is_valid(SECRET, body, signature.sign(SECRET, reserialised))


def test_a_sha1_signature_with_the_right_secret_is_not_enough():
    import hashlib
    import hmac

    body = b'{"object":"instagram","entry":[]}'
    sha1 = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not signature.is_valid(SECRET, body, sha1)


def test_no_secret_means_nothing_verifies():
    body = b"{}"
    assert not signature.is_valid("", body, signature.sign("", body))


# --- parsing deliveries ----------------------------------------------------------------


def test_each_event_kind_is_recognised():
    sender = "111"
    mid = "m1"
    delivery = parse_delivery(
        d.delivery(
            d.text(sender, "hello", mid=mid, timestamp=1),
            d.quick_reply(sender, "Pay", "faq/life_salary"),
            d.postback(sender, "How do I apply?", "faq/process_how_to_apply"),
            d.attachment(sender, "image", "https://lookaside.fbsbx.com/x"),
            d.attachment(sender, "story_mention", "https://lookaside.fbsbx.com/story"),
            d.unsupported(sender),
            d.reaction(sender, mid),
            d.read(sender, mid),
            d.edit(sender, mid, "hello again"),
            d.deletion(sender, mid),
            d.echo(sender, "our own reply"),
            {"sender": {"id": sender}, "recipient": {"id": ACCOUNT_ID}, "optin": {}},
        )
    )
    kinds = [event.kind for event in delivery.events]
    assert kinds == [
        EventKind.TEXT,
        EventKind.QUICK_REPLY,
        EventKind.POSTBACK,
        EventKind.ATTACHMENT,
        EventKind.STORY_MENTION,
        EventKind.ATTACHMENT,
        EventKind.REACTION,
        EventKind.READ,
        EventKind.EDIT,
        EventKind.DELETION,
        EventKind.ECHO,
        EventKind.OTHER,  # no timestamp: the entry's time, the latest here
    ]
    by_kind = {event.kind: event for event in delivery.events}
    assert by_kind[EventKind.TEXT].text == "hello" and by_kind[EventKind.TEXT].mid == mid
    assert by_kind[EventKind.QUICK_REPLY].text == "faq/life_salary"
    assert by_kind[EventKind.POSTBACK].text == "faq/process_how_to_apply"
    answered = {event.kind for event in delivery.events if event.answered}
    assert answered == {
        EventKind.TEXT,
        EventKind.QUICK_REPLY,
        EventKind.POSTBACK,
        EventKind.ATTACHMENT,
        EventKind.STORY_MENTION,
    }


def test_attachment_events_keep_types_but_never_urls():
    url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=123&signature=secret"
    for kind in ("image", "audio", "video", "share", "story_mention", "reel", "ig_reel"):
        (event,) = parse_delivery(d.delivery(d.attachment("5", kind, url))).events
        mention = kind == "story_mention"  # thanked, not told "text only" (test_instagram_comments)
        assert event.kind is (EventKind.STORY_MENTION if mention else EventKind.ATTACHMENT)
        assert event.attachment_types == (kind,)
        assert url not in repr(event) and "lookaside" not in repr(event)


def test_all_entries_and_events_are_returned_oldest_first():
    a = d.text("1", "third", timestamp=300)
    b = d.text("2", "first", timestamp=100)
    c = d.text("1", "second", timestamp=200)
    e = d.text("3", "fourth", timestamp=400)
    delivery = parse_delivery(d.entries([[a, e], [b, c]]))
    assert [event.text for event in delivery.events] == ["first", "second", "third", "fourth"]


def test_events_with_equal_timestamps_keep_their_delivery_order():
    events = [d.text("1", f"m{i}", timestamp=7) for i in range(5)]
    delivery = parse_delivery(d.delivery(*events))
    assert [event.text for event in delivery.events] == [f"m{i}" for i in range(5)]


def test_the_accounts_own_messages_are_echoes_even_without_the_flag():
    raw = d.text(ACCOUNT_ID, "sent from the Instagram app by a recruiter")
    (event,) = parse_delivery(d.delivery(raw)).events
    assert event.kind is EventKind.ECHO and not event.answered


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_undecodable_bodies_are_refused_with_a_reason(body, reason):
    with pytest.raises(MalformedDelivery, match=reason):
        decode(body)


@pytest.mark.parametrize(
    "payload, reason",
    [
        ([], "must be a JSON object"),
        ("instagram", "must be a JSON object"),
        ({"entry": []}, "'object' is missing"),
        ({"object": 5, "entry": []}, "'object' is missing"),
        ({"object": "instagram"}, "'entry' must be a list"),
        ({"object": "instagram", "entry": {}}, "'entry' must be a list"),
    ],
)
def test_broken_envelopes_are_refused_with_a_reason(payload, reason):
    with pytest.raises(MalformedDelivery, match=reason):
        parse_delivery(payload)


def test_other_objects_are_recognised_and_carry_no_events():
    delivery = parse_delivery({"object": "page", "entry": [{"messaging": [d.text("1", "x")]}]})
    assert not delivery.for_instagram and delivery.events == []


def test_odd_events_are_skipped_and_the_rest_kept():
    good = d.text("1", "still answered")
    delivery = parse_delivery(
        {
            "object": "instagram",
            "entry": [
                "not an entry",
                {"id": ACCOUNT_ID, "changes": [{"field": "comments"}]},
                {"id": ACCOUNT_ID, "messaging": "nope"},
                {
                    "id": ACCOUNT_ID,
                    "messaging": [
                        {"recipient": {"id": ACCOUNT_ID}, "message": {"text": "no sender"}},
                        {"sender": {"id": True}, "recipient": {"id": "2"}, "message": {}},
                        {"sender": {"id": "1"}, "recipient": {"id": ACCOUNT_ID}, "message": 7},
                        42,
                        good,
                    ],
                },
            ],
        }
    )
    answered = [event for event in delivery.events if event.answered]
    assert [event.text for event in answered] == ["still answered"]
    assert delivery.skipped == 6


def test_blank_texts_and_empty_payloads_are_not_answered():
    blank = d.text("1", "   ")
    empty_payload = d.quick_reply("1", "Pay", "")
    delivery = parse_delivery(d.delivery(blank, empty_payload))
    assert [(e.kind, e.text) for e in delivery.events] == [
        (EventKind.OTHER, None),
        (EventKind.TEXT, "Pay"),  # the title is still the applicant's text
    ]


# --- splitting and quick replies -------------------------------------------------------


def test_short_texts_are_not_split():
    assert formatting.split_text("  Hello there.  ") == ["Hello there."]
    assert formatting.split_text("   ") == []


def test_long_texts_split_at_sentences_within_the_byte_limit():
    sentences = [f"Sentence number {i} is about vetting and how it works." for i in range(60)]
    text = " ".join(sentences)
    parts = formatting.split_text(text)
    assert len(parts) > 1
    assert all(formatting.utf8_len(part) <= 1000 for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == text


def test_line_breaks_are_preferred_to_sentence_breaks():
    lines = [f"Line {i}. " + "word " * 30 for i in range(12)]
    text = "\n".join(line.strip() for line in lines)
    parts = formatting.split_text(text)
    assert all(formatting.utf8_len(part) <= 1000 for part in parts)
    assert "\n".join(parts) == text


def test_bytes_not_characters_are_counted():
    text = "🙂" * 600  # 600 characters, 2,400 bytes
    parts = formatting.split_text(text)
    assert all(formatting.utf8_len(part) <= 1000 for part in parts)
    assert "".join(parts) == text and len(parts) == 3


def test_one_enormous_word_is_cut_between_characters():
    text = "é" * 1500 + " end."
    parts = formatting.split_text(text)
    assert all(formatting.utf8_len(part) <= 1000 for part in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert all(part.encode("utf-8").decode("utf-8") == part for part in parts)


def test_buttons_become_at_most_13_quick_replies_with_short_titles():
    buttons = [
        {"title": f"A very long button title number {i}", "payload": f"faq/topic_{i}"}
        for i in range(15)
    ]
    replies, links = formatting.quick_replies(buttons)
    assert len(replies) == 13 and links == []
    assert all(len(reply["title"]) <= 20 for reply in replies)
    assert replies[0] == {
        "content_type": "text",
        "title": "A very long button…",
        "payload": "faq/topic_0",
    }


def test_payloads_are_kept_exactly_and_link_buttons_become_text():
    replies, links = formatting.quick_replies(
        [
            {"title": "Tech jobs", "payload": '/search_vacancies{"job_family":"technology"}'},
            {"title": "Careers site", "url": "https://www.mi5.gov.uk/careers"},
            {"title": "", "payload": "/help"},
            "not a button",
            {"title": "No payload"},
        ]
    )
    assert [r["payload"] for r in replies] == [
        '/search_vacancies{"job_family":"technology"}',
        "No payload",
    ]
    assert links == ["Careers site: https://www.mi5.gov.uk/careers"]


def test_quick_replies_ride_on_the_last_part_of_a_split_text():
    replies = [{"content_type": "text", "title": "Pay", "payload": "faq/life_salary"}]
    messages = formatting.text_messages("Words here. " * 200, replies)
    assert len(messages) == 3
    assert "quick_replies" not in messages[0] and messages[-1]["quick_replies"] == replies


# --- dedup, flood control, queues ------------------------------------------------------


async def test_a_message_id_is_new_once_until_it_expires():
    clock = Clock()
    seen = InMemorySeenMessageIds(ttl_seconds=60, clock=clock)
    assert await seen.first_sighting("m1")
    assert not await seen.first_sighting("m1")
    assert await seen.first_sighting("m2")
    clock.now += 61
    assert await seen.first_sighting("m1")
    assert len(seen) == 1  # m2 expired too


async def test_the_dedup_store_is_bounded():
    seen = InMemorySeenMessageIds(ttl_seconds=3600, max_entries=3)
    for mid in "abcd":
        assert await seen.first_sighting(mid)
    assert len(seen) == 3
    assert await seen.first_sighting("a")  # evicted as the oldest


def test_flood_control_warns_once_then_drops_and_spares_other_senders():
    clock = Clock()
    flood = FloodControl(limit=20, window_seconds=60, clock=clock)
    verdicts = [flood.check("flooder") for _ in range(25)]
    assert verdicts[:20] == [Verdict.ALLOW] * 20
    assert verdicts[20:] == [Verdict.WARN] + [Verdict.DROP] * 4
    assert flood.check("someone else") is Verdict.ALLOW
    clock.now += 30
    assert flood.check("flooder") is Verdict.DROP
    clock.now += 31  # the window has slid past the burst
    assert flood.check("flooder") is Verdict.ALLOW


def test_flood_control_forgets_idle_senders():
    clock = Clock()
    flood = FloodControl(limit=2, window_seconds=10, clock=clock)
    for sender in range(100):
        flood.check(str(sender))
    clock.now += 11
    flood.check("new")
    assert set(flood._hits) == {"new"}


async def test_each_senders_jobs_run_in_order_and_senders_run_in_parallel():
    queues = SenderQueues()
    log: List[str] = []
    slow_started = asyncio.Event()
    release = asyncio.Event()

    def job(name: str, block: bool = False):
        async def run() -> None:
            if block:
                slow_started.set()
                await release.wait()
            await asyncio.sleep(0)
            log.append(name)

        return run

    queues.submit("a", job("a1", block=True))
    for i in range(2, 6):
        queues.submit("a", job(f"a{i}"))
    queues.submit("b", job("b1"))
    await slow_started.wait()
    await asyncio.sleep(0.01)
    assert log == ["b1"]  # b is not held up by a's slow first job
    release.set()
    assert await queues.drain(timeout=5)
    assert [name for name in log if name.startswith("a")] == ["a1", "a2", "a3", "a4", "a5"]
    assert queues.busy_senders == 0


async def test_a_failing_job_does_not_stop_the_senders_queue():
    queues = SenderQueues()
    done: List[int] = []

    async def boom() -> None:
        raise RuntimeError("model crashed")

    async def fine() -> None:
        done.append(1)

    queues.submit("a", boom)
    queues.submit("a", fine)
    assert await queues.drain(timeout=5)
    assert done == [1]


async def test_model_work_waits_while_webhooks_are_being_acknowledged():
    gate = AckFirst(quiet_seconds=0.05, burst_quiet_seconds=0.05, max_wait_seconds=5)
    queues = SenderQueues(gate)
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    gate.request_started()
    queues.submit("a", job)
    await asyncio.sleep(0.2)
    assert not ran.is_set()  # a request is still in flight
    gate.request_finished()
    await asyncio.sleep(0.02)
    assert not ran.is_set()  # and one just finished: wait for a quiet moment
    await asyncio.wait_for(ran.wait(), timeout=1)


def test_the_quiet_period_is_longer_during_a_burst():
    clock = Clock()
    gate = AckFirst(quiet_seconds=0.005, burst_quiet_seconds=0.05, clock=clock)
    assert gate.quiet_for() == 0
    gate.request_started()
    gate.request_finished()
    assert gate.quiet_for() == pytest.approx(0.005)  # a lone request
    clock.now += 1
    gate.request_started()
    clock.now += 0.002
    gate.request_started()  # a second one 2 ms later: a burst
    assert gate.quiet_for() == pytest.approx(0.05)
    gate.request_finished()
    gate.request_finished()
    clock.now += 0.03
    assert gate.quiet_for() == pytest.approx(0.02)
    clock.now += 0.03
    assert gate.quiet_for() == 0


async def test_model_work_is_never_starved_by_webhooks():
    gate = AckFirst(quiet_seconds=0.05, burst_quiet_seconds=0.05, max_wait_seconds=0.2)
    queues = SenderQueues(gate)
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    gate.request_started()  # and never finished
    queues.submit("a", job)
    await asyncio.wait_for(ran.wait(), timeout=2)


async def test_at_most_max_active_senders_are_processed_at_once():
    queues = SenderQueues(max_active=3)
    active = 0
    peak = 0

    async def job() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1

    for sender in range(10):
        for _ in range(2):
            queues.submit(str(sender), job)
    assert await queues.drain(timeout=5)
    assert peak == 3


# --- settings and error classification ------------------------------------------------


def test_settings_come_from_the_environment_with_documented_defaults():
    env = {
        "INSTAGRAM_VERIFY_TOKEN": "v",
        "INSTAGRAM_APP_SECRET": "s",
        "INSTAGRAM_ACCESS_TOKEN": "t",
    }
    settings = InstagramSettings.load(None, env)
    assert settings.graph_url == DEFAULT_GRAPH_URL
    assert settings.api_base == f"{DEFAULT_GRAPH_URL}/{settings.graph_version}"
    overridden = InstagramSettings.load(
        {"graph_url": "http://127.0.0.1:9/", "graph_version": "v24.0", "messages_per_minute": 5},
        env,
    )
    assert overridden.api_base == "http://127.0.0.1:9/v24.0"
    assert overridden.messages_per_window == 5


def test_missing_secrets_are_named():
    with pytest.raises(SettingsError, match="INSTAGRAM_APP_SECRET, INSTAGRAM_ACCESS_TOKEN"):
        InstagramSettings.load(None, {"INSTAGRAM_VERIFY_TOKEN": "v"})


@pytest.mark.parametrize(
    "status, error, transient",
    [
        (500, None, True),
        (503, {"code": 2, "type": "OAuthException"}, True),
        (429, None, True),
        (400, {"code": 4}, True),
        (400, {"code": 17}, True),
        (400, {"code": 32}, True),
        (400, {"code": 613}, True),
        (400, {"code": 1}, True),
        (400, {"code": 190, "error_subcode": 463}, False),
        (500, {"code": 190}, False),
        (400, {"code": 10, "error_subcode": 2018278}, False),
        (400, {"code": 551}, False),
        (400, {"code": 100}, False),
        (403, None, False),
    ],
)
def test_graph_errors_are_classified_for_retry(status, error, transient):
    body = json.dumps({"error": {**error, "fbtrace_id": "Abc"}} if error else {}).encode()
    classified = classify(status, body)
    assert classified.transient is transient
    assert classified.code == (error or {}).get("code")
