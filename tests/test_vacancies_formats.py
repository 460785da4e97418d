"""Each feed format, served over real HTTP, gives the applicant the same answer."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import pytest

from actions.vacancies.service import forget_clients
from tests.vacancy_feeds import (
    EXPECTED_TECH_IN_MANCHESTER,
    FEEDS,
    NOW,
    TECH_IN_MANCHESTER,
    Conversation,
    FeedServer,
    Record,
    button_titles,
    only_text,
    settings_for,
    titles_in,
)


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    yield
    forget_clients()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed:
        yield feed


def open_records() -> list[Record]:
    """Lever has no closing date: a closed job is simply no longer published."""
    return [
        r
        for r in TECH_IN_MANCHESTER
        if r.closes is None or datetime.fromisoformat(r.closes).replace(tzinfo=timezone.utc) > NOW
    ]


@pytest.mark.parametrize("feed_format", ["jobposting", "greenhouse"])
async def test_tech_jobs_in_manchester_soonest_closing_first(
    server: FeedServer, domain, feed_format: str
):
    server.serve(FEEDS[feed_format](TECH_IN_MANCHESTER))
    chat = Conversation(settings_for(server.url, feed_format), domain)

    first = await chat.say(job_family="tech", location="manc")

    text = only_text(first)
    assert titles_in(text) == EXPECTED_TECH_IN_MANCHESTER[:3]
    assert "There are 4 open technology vacancies in Manchester" in text
    assert "Closes 4 December 2026 (in 6 days)" in text
    assert "Closes 19 March 2027" in text
    assert "£40,000 to £50,000 a year" in text
    assert "Apply: https://www.mi5.gov.uk/careers/jobs/2" in text
    assert "Build secure software & data pipelines." in text
    assert "alert" not in text and "<" not in text
    assert "Data Scientist" not in text  # closed
    assert "Show more" in button_titles(first)

    second = only_text(await chat.say("more_vacancies"))
    assert titles_in(second) == EXPECTED_TECH_IN_MANCHESTER[3:]
    assert chat.slots["vacancies_shown"] == 4


async def test_lever_postings_are_open_while_published(server: FeedServer, domain):
    server.serve(FEEDS["lever"](open_records()))
    chat = Conversation(settings_for(server.url, "lever"), domain)

    text = only_text(await chat.say(job_family="tech", location="manc"))

    # No closing dates: all four, in title order, and the applicant is told to check the advert.
    assert titles_in(text) == sorted(EXPECTED_TECH_IN_MANCHESTER)[:3]
    assert "Closing date: see the advert" in text
    assert "£40,000 to £50,000 a year" in text
    assert "Apply: https://www.mi5.gov.uk/careers/jobs/" in text
    more = only_text(await chat.say("more_vacancies"))
    assert titles_in(more) == ["Software Engineer"]
    assert "Build secure software & data pipelines." in more and "alert" not in more


@pytest.mark.parametrize("feed_format", ["jobposting", "greenhouse", "lever"])
async def test_part_time_refinement_uses_the_employment_type(
    server: FeedServer, domain, feed_format: str
):
    records = [
        *open_records(),
        Record("8", "Service Desk Analyst", "Technology", ("Manchester",), "2027-02-01",
               types=("PART_TIME",)),
    ]  # fmt: skip
    server.serve(FEEDS[feed_format](records))
    chat = Conversation(settings_for(server.url, feed_format), domain)
    await chat.say(job_family="IT", location="Greater Manchester")

    text = only_text(await chat.say(keyword="part time"))

    assert titles_in(text) == ["Service Desk Analyst"]
    assert 'technology vacancy in Manchester matching "part time"' in text
    assert "Part time" in text


JOBPOSTING_QUIRKS = [
    {"@type": "JobPosting", "title": "Good One", "validThrough": "2027-01-01",
     "url": "https://www.mi5.gov.uk/careers/jobs/good", "occupationalCategory": "Technology",
     "jobLocation": {"@type": "Place", "address": {"addressLocality": "Manchester"}}},
    {"@type": "JobPosting", "description": "<p>No title at all</p>", "validThrough": "2027-01-02"},
    {"@type": "JobPosting", "title": "Bad Date", "validThrough": "next Friday",
     "occupationalCategory": "Technology"},
    {"@type": "JobPosting", "title": "No Link Or Date", "occupationalCategory": "Technology",
     "url": "javascript:alert(1)", "jobLocation": 42},
    {"@type": "JobPosting", "title": "Odd Money", "validThrough": "2027-02-01T17:00:00Z",
     "occupationalCategory": "Technology", "url": "https://www.mi5.gov.uk/careers/jobs/odd",
     "baseSalary": {"currency": "XBT", "value": {"minValue": 1, "maxValue": 2}}},
    {"@type": "JobPosting", "title": "Nonsense Money", "validThrough": "2027-03-01",
     "occupationalCategory": "Technology",
     "baseSalary": {"currency": "GBP", "value": {"minValue": "lots", "maxValue": -5}}},
    {"@type": "JobPosting", "title": "<b>Bold</b> &amp; Marked Up", "validThrough": "2027-04-01",
     "occupationalCategory": ["Technology"], "employmentType": ["PART_TIME", 7],
     "baseSalary": {"currency": "gbp", "value": 45000, "unitText": "YEAR"}},
    "not even an object",
    {"@type": "Organization", "name": "MI5"},
]  # fmt: skip


async def test_one_bad_posting_never_hides_the_others(server: FeedServer, domain):
    server.serve(JOBPOSTING_QUIRKS)
    chat = Conversation(settings_for(server.url), domain)

    messages = await chat.say(job_family="technology")
    text = only_text(messages)
    text += "\n" + only_text(await chat.say("more_vacancies"))

    assert titles_in(text) == [
        "Good One",
        "Odd Money",
        "Nonsense Money",
        "Bold & Marked Up",
        "No Link Or Date",
    ]
    assert "Bad Date" not in text and "No title" not in text
    assert "XBT" not in text and "lots" not in text  # no salary rather than a wrong one
    assert "£45,000 a year" in text
    assert "Part time" in text
    # A posting with no usable link sends the applicant to the careers site.
    assert "javascript" not in text
    assert "Apply: https://www.mi5.gov.uk/careers\n" in text + "\n"
    assert "Closes 1 February 2027" in text  # 17:00 UTC is still 1 February in the UK


async def test_greenhouse_custom_fields_and_missing_fields(server: FeedServer, domain):
    board = {
        "jobs": [
            {"id": 1, "title": "Has Everything", "absolute_url": "https://www.mi5.gov.uk/careers/jobs/1",
             "location": {"name": "London"}, "departments": [{"name": "Technology"}],
             "content": "&lt;p&gt;Escaped &amp;amp; stripped&lt;/p&gt;",
             "metadata": [{"name": "Closing Date", "value": "2027-01-15", "value_type": "date"},
                          {"name": "Salary", "value_type": "currency_range",
                           "value": {"unit": "GBP", "min_value": "50000.0",
                                     "max_value": "60000.0"}}]},
            {"id": 2, "title": "Bare Minimum"},
            {"id": 3, "title": "Closed", "departments": [{"name": "Technology"}],
             "metadata": [{"name": "Closing date", "value": "2026-11-01", "value_type": "date"}]},
            {"id": 4, "title": "Bad Date", "departments": [{"name": "Technology"}],
             "metadata": [{"name": "Closing date", "value": "31/12/2026", "value_type": "date"}]},
            {"id": 5, "title": "Euro Pay", "departments": [{"name": "Technology"}],
             "pay_input_ranges": [{"min_cents": 5000000, "max_cents": 6000000,
                                   "currency_type": "EUR"}]},
            {"id": 6, "title": "Unknown Pay", "departments": [{"name": "Technology"}],
             "pay_input_ranges": [{"min_cents": 5000000, "max_cents": 6000000,
                                   "currency_type": "ZZZ"}]},
            {"id": 7, "departments": [{"name": "Technology"}]},
        ],
        "meta": {"total": 7},
    }  # fmt: skip
    server.serve(board)
    chat = Conversation(settings_for(server.url, "greenhouse"), domain)

    text = only_text(await chat.say(job_family="any"))
    text += "\n" + only_text(await chat.say("more_vacancies"))

    assert titles_in(text) == ["Has Everything", "Bare Minimum", "Euro Pay", "Unknown Pay"]
    assert "Escaped & stripped" in text and "&amp;" not in text
    assert "£50,000 to £60,000 a year" in text
    assert "€50,000 to €60,000 a year" in text
    assert "ZZZ" not in text
    assert "Closes 15 January 2027" in text


async def test_lever_quirks(server: FeedServer, domain):
    postings = [
        {"id": "a", "text": "Hourly Role",
         "categories": {"team": "Corporate", "location": "Cheltenham", "commitment": "Part-time"},
         "hostedUrl": "https://www.mi5.gov.uk/careers/jobs/a",
         "descriptionPlain": "Plain words only.",
         "salaryRange": {"currency": "GBP", "interval": "per-hour-wage", "min": 14.5, "max": 16}},
        {"id": "b", "text": "Remote Role", "categories": {"team": "Corporate"},
         "workplaceType": "remote", "salaryRange": {"currency": "GBP", "interval": "one-time",
         "min": 1, "max": 2}},
        {"id": "c", "categories": {"team": "Corporate"}},
        {"id": "d", "text": "Wrong Types", "categories": ["not", "a", "dict"], "createdAt": "soon"},
    ]  # fmt: skip
    server.serve(postings)
    chat = Conversation(settings_for(server.url, "lever"), domain)

    text = only_text(await chat.say(job_family="any"))

    assert titles_in(text) == ["Hourly Role", "Remote Role", "Wrong Types"]
    assert "£14.50 to £16 an hour" in text
    assert "Part time" in text
    remote = only_text(await chat.say(location="remote"))
    assert titles_in(remote) == ["Remote Role"]


async def test_the_wrong_format_is_an_unreachable_feed_not_an_empty_one(server: FeedServer, domain):
    server.serve(FEEDS["lever"](TECH_IN_MANCHESTER))
    chat = Conversation(settings_for(server.url, "greenhouse"), domain)

    text = only_text(await chat.say(job_family="technology"))

    assert "can't get the list of current vacancies" in text
    assert "https://www.mi5.gov.uk/careers" in text
