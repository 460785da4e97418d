"""A misbehaving feed: the applicant always gets a useful answer, in bounded time."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Iterator

import pytest

from actions.vacancies.service import forget_clients
from tests.vacancy_feeds import (
    EXPECTED_TECH_IN_MANCHESTER,
    TECH_IN_MANCHESTER,
    Conversation,
    FeedServer,
    Reply,
    button_titles,
    jobposting_feed,
    many_postings,
    only_text,
    refused_url,
    settings_for,
    titles_in,
)

UNREACHABLE = "can't get the list of current vacancies"
STALE = "may be out of date"
CAREERS = "https://www.mi5.gov.uk/careers"


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    yield
    forget_clients()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer(json.dumps(jobposting_feed(TECH_IN_MANCHESTER)).encode()) as feed:
        yield feed


async def search(chat: Conversation) -> str:
    return only_text(await chat.say(job_family="technology", location="Manchester"))


def assert_results(text: str, stale: bool = False) -> None:
    assert titles_in(text) == EXPECTED_TECH_IN_MANCHESTER[:3]
    assert (STALE in text) == stale


def assert_unreachable(text: str) -> None:
    assert UNREACHABLE in text and CAREERS in text
    assert not titles_in(text)


async def test_a_slow_feed_is_given_up_on_within_the_timeout(server: FeedServer, domain):
    server.then(Reply(delay_s=4))
    chat = Conversation(settings_for(server.url, timeout_s=1.0), domain)

    started = time.monotonic()
    messages = await chat.say(job_family="technology")
    elapsed = time.monotonic() - started

    assert_unreachable(only_text(messages))
    assert "Try again" in button_titles(messages)
    assert elapsed < 1.5, f"the applicant waited {elapsed:.1f}s with a 1s timeout"


async def test_a_slow_refresh_falls_back_to_the_last_good_copy(server: FeedServer, domain):
    chat = Conversation(settings_for(server.url, timeout_s=1.0, ttl_s=0), domain)
    assert_results(await search(chat))

    server.then(Reply(delay_s=3))
    started = time.monotonic()
    text = await search(chat)

    assert time.monotonic() - started < 1.5
    assert_results(text, stale=True)


async def test_applicants_asking_at_once_share_one_fetch(server: FeedServer, domain):
    server.then(Reply(delay_s=0.5))
    chats = [Conversation(settings_for(server.url), domain) for _ in range(8)]

    texts = await asyncio.gather(*(search(chat) for chat in chats))

    for text in texts:
        assert_results(text)
    assert server.hits() == 1


async def test_a_500_is_retried_within_the_same_search(server: FeedServer, domain):
    server.then(Reply(status=500, body=b"oops"), Reply(status=503, body=b"busy"))
    chat = Conversation(settings_for(server.url), domain)

    assert_results(await search(chat))
    assert server.hits() == 3


async def test_persistent_500s_then_recovery(server: FeedServer, domain):
    server.then(*[Reply(status=500, body=b"down")] * 3)
    chat = Conversation(settings_for(server.url, ttl_s=0), domain)

    assert_unreachable(await search(chat))
    assert server.hits() == 3  # a bounded number of attempts, not a hammering

    assert_results(await search(chat))  # the feed is back: so is the list


async def test_429_retry_after_is_honoured_within_the_deadline(server: FeedServer, domain):
    server.then(Reply(status=429, body=b"", headers={"Retry-After": "1"}))
    chat = Conversation(settings_for(server.url, timeout_s=3.0), domain)

    started = time.monotonic()
    text = await search(chat)

    assert time.monotonic() - started >= 1.0
    assert_results(text)
    assert server.hits() == 2


async def test_429_asking_for_longer_than_the_deadline_is_not_waited_for_or_repeated(
    server: FeedServer, domain
):
    server.then(Reply(status=429, body=b"", headers={"Retry-After": "120"}))
    chat = Conversation(settings_for(server.url, timeout_s=3.0, ttl_s=0), domain)

    started = time.monotonic()
    assert_unreachable(await search(chat))
    assert time.monotonic() - started < 1.0
    assert_unreachable(await search(chat))
    assert server.hits() == 1  # the feed asked for two minutes' peace and got it


async def test_connection_refused_with_no_copy(domain):
    chat = Conversation(settings_for(refused_url(), timeout_s=2.0), domain)

    started = time.monotonic()
    assert_unreachable(await search(chat))
    assert time.monotonic() - started < 2.5


async def test_connection_refused_after_a_good_copy_serves_it_marked_stale(domain):
    with FeedServer(json.dumps(jobposting_feed(TECH_IN_MANCHESTER)).encode()) as feed:
        chat = Conversation(settings_for(feed.url, ttl_s=0), domain)
        assert_results(await search(chat))
    assert_results(await search(chat), stale=True)


@pytest.mark.parametrize(
    "body",
    [
        b'{"@type": "ItemList", "itemListElement": [',
        b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",
        b"",
        b'"just a string"',
        b"\xff\xfe not utf-8",
    ],
    ids=["malformed-json", "html", "empty", "wrong-shape", "not-utf8"],
)
async def test_a_bad_body_with_no_copy_sends_the_applicant_to_the_site(
    server: FeedServer, domain, body: bytes
):
    server.then(Reply(body=body))
    chat = Conversation(settings_for(server.url), domain)

    assert_unreachable(await search(chat))


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"<html>Service Unavailable</html>", b""],
    ids=["malformed-json", "html", "empty"],
)
async def test_a_bad_body_after_a_good_copy_then_recovery(server: FeedServer, domain, body: bytes):
    chat = Conversation(settings_for(server.url, ttl_s=0), domain)
    assert_results(await search(chat))

    server.then(Reply(body=body))
    assert_results(await search(chat), stale=True)

    assert_results(await search(chat))  # recovered: no warning any more


async def test_an_empty_list_means_no_vacancies_open(server: FeedServer, domain):
    server.serve([])
    chat = Conversation(settings_for(server.url), domain)

    text = only_text(await chat.say(job_family="any"))

    assert "There are no vacancies open right now" in text
    assert "job alerts" in text and CAREERS in text


async def test_a_huge_feed_is_searched(server: FeedServer, domain):
    server.serve(jobposting_feed(many_postings(10_000)))
    chat = Conversation(settings_for(server.url, timeout_s=20.0), domain)

    messages = await chat.say(job_family="languages", location="Cheltenham")

    text = only_text(messages)
    assert len(titles_in(text)) == 3
    assert all("Languages Officer" in title for title in titles_in(text))
    assert "Show more" in button_titles(messages)


async def test_the_cache_is_revalidated_with_an_etag(server: FeedServer, domain):
    chat = Conversation(settings_for(server.url, ttl_s=0), domain)
    assert_results(await search(chat))

    assert_results(await search(chat))

    assert server.hits() == 2
    assert "If-None-Match" not in server.requests[0]
    assert server.requests[1]["If-None-Match"].startswith('"')


async def test_within_the_ttl_the_feed_is_not_asked_again(server: FeedServer, domain):
    chat = Conversation(settings_for(server.url, ttl_s=300), domain)
    for _ in range(3):
        assert_results(await search(chat))
    assert server.hits() == 1


async def test_a_changed_feed_is_picked_up_after_the_ttl(server: FeedServer, domain):
    chat = Conversation(settings_for(server.url, ttl_s=0), domain)
    assert_results(await search(chat))

    server.serve(jobposting_feed(TECH_IN_MANCHESTER[:2]))

    assert titles_in(await search(chat)) == ["Software Engineer", "Cloud Platform Engineer"]


async def test_a_404_is_not_retried(server: FeedServer, domain):
    server.then(Reply(status=404, body=b"not found"))
    chat = Conversation(settings_for(server.url), domain)

    assert_unreachable(await search(chat))
    assert server.hits() == 1


async def test_a_broken_configuration_still_gets_the_applicant_an_answer(domain, monkeypatch):
    monkeypatch.setenv("VACANCIES_FORMAT", "rss")
    from actions.vacancies.action import ActionSearchVacancies

    chat = Conversation(settings_for("unused"), domain)
    chat.action = ActionSearchVacancies()  # reads the environment, as the action server does

    assert_unreachable(await search(chat))
