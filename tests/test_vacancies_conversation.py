"""The vacancy search as the applicant experiences it, on the sample feed in data/vacancies/."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Dict, Iterator, List

import pytest

from actions.settings import DEFAULT_VACANCIES_FEED, VacancySettings
from actions.vacancies.service import forget_clients
from tests.vacancy_feeds import (
    NOW,
    Conversation,
    FeedServer,
    Record,
    button_titles,
    jobposting_feed,
    only_text,
    settings_for,
    titles_in,
)

FAMILIES = ["Intelligence", "Analysis", "Technology", "Languages", "Surveillance", "Corporate",
            "Early careers"]  # fmt: skip
CLOSED = {"Senior Intelligence Analyst", "Data Scientist", "Surveillance Team Leader",
          "Facilities Officer"}  # fmt: skip
MONTHS = "January February March April May June July August September October November December"


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    yield
    forget_clients()


@pytest.fixture
def chat(domain) -> Conversation:
    return Conversation(VacancySettings(), domain)  # the default: the sample feed


@pytest.fixture(scope="module")
def sample() -> List[Dict[str, Any]]:
    document = json.loads(DEFAULT_VACANCIES_FEED.read_text(encoding="utf-8"))
    return [element["item"] for element in document["itemListElement"]]


async def every_page(chat: Conversation, **entities: str) -> List[str]:
    """Search, then tap "Show more" for as long as it is offered."""
    messages = await chat.say(**entities)
    pages = [only_text(messages)]
    while "Show more" in button_titles(messages):
        assert len(pages) < 30, "paging never ends"
        messages = await chat.say("more_vacancies")
        pages.append(only_text(messages))
    return pages


def closing_dates(text: str) -> List[datetime]:
    return [
        datetime(int(year), MONTHS.split().index(month) + 1, int(day))
        for day, month, year in re.findall(r"Closes (\d+) (\w+) (\d{4})", text)
    ]


async def test_nothing_to_narrow_the_search_asks_the_job_family(chat: Conversation):
    messages = await chat.say()  # "are you hiring?"

    assert "What kind of role" in only_text(messages)
    assert button_titles(messages) == [*FAMILIES, "Anything"]
    payloads = [button["payload"] for button in messages[0]["buttons"]]
    assert payloads[2] == '/search_vacancies{"job_family":"technology"}'
    assert payloads[-1] == '/search_vacancies{"job_family":"any"}'
    assert chat.slots["vacancies_shown"] is None


async def test_anything_lists_every_open_vacancy_once_soonest_closing_first(
    chat: Conversation, sample
):
    await chat.say()
    pages = await every_page(chat, job_family="any")

    shown = [title for page in pages for title in titles_in(page)]
    open_titles = {p["title"] for p in sample if datetime.fromisoformat(p["validThrough"]) > NOW}
    assert sorted(shown) == sorted(open_titles)
    assert not CLOSED & set(shown)
    dates = [d for page in pages for d in closing_dates(page)]
    assert dates == sorted(dates) and len(dates) == len(shown)
    assert all(len(titles_in(page)) <= 3 for page in pages)
    assert "There are 24 open vacancies. Here are 1 to 3, soonest closing first:" in pages[0]
    assert "More open vacancies (22 to 24 of 24):" in pages[-1]


async def test_a_vacancy_shows_everything_an_applicant_needs(chat: Conversation):
    text = only_text(await chat.say(job_family="technology", location="Manchester"))

    first = text.split("\n\n")[1]
    assert first.splitlines() == [
        "1. Software Engineer",
        "Manchester · £45,000 to £58,000 a year · Full time",
        "Closes 4 December 2026 (in 6 days)",
        "Build and run the software our investigators rely on, from data pipelines to secure "
        "web applications.",
        "Apply: https://www.mi5.gov.uk/careers/jobs/3109-software-engineer",
    ]


@pytest.mark.parametrize("word", ["tech", "IT", "cyber", "software", "i.t.", "Technology"])
async def test_job_family_synonyms(domain, word: str):
    asked = Conversation(VacancySettings(), domain)
    text = only_text(await asked.say(job_family=word, location="manc"))
    assert titles_in(text) == [
        "Software Engineer",
        "Technology Graduate Development Programme",
        "Cloud Platform Engineer",
    ]
    assert asked.slots["job_family"] == "technology"
    assert asked.slots["location"] == "Manchester"


@pytest.mark.parametrize("place", ["anywhere", "nationwide", "multiple locations", "UK-wide"])
async def test_anywhere_means_no_location_filter(domain, place: str):
    everywhere = Conversation(VacancySettings(), domain)
    unfiltered = only_text(await everywhere.say(job_family="languages"))
    anywhere = Conversation(VacancySettings(), domain)

    text = only_text(await anywhere.say(job_family="languages", location=place))

    assert titles_in(text) == titles_in(unfiltered)
    assert "There are 3 open languages vacancies right now" in text
    assert anywhere.slots["location"] == "anywhere"


async def test_belfast_finds_northern_ireland_and_multiple_location_roles(chat: Conversation):
    text = only_text(await chat.say(location="Belfast"))
    assert titles_in(text) == [
        "Investigative Officer, Northern Ireland",
        "IT Service Desk Analyst (part time)",
        "Mandarin Translator (part time)",
    ]
    assert "in Northern Ireland" in text


async def test_refine_by_place_then_by_keyword_keeps_the_rest(chat: Conversation):
    await chat.say(job_family="tech", location="manc")

    london = only_text(await chat.say(location="London"))  # "what about London?"
    assert titles_in(london) == ["Technology Graduate Development Programme"]
    assert "There is 1 open technology vacancy in London right now" in london

    part_time = await chat.say(keyword="part time")  # "only part time"
    text = only_text(part_time)
    assert not titles_in(text)
    assert (
        'I couldn\'t find any open technology vacancies in London matching "part time" right now'
        in text
    )
    assert "job alerts" in text and "https://www.mi5.gov.uk/careers" in text
    assert button_titles(part_time) == ["Any location", "Any job type", "Any keyword"]

    wider = only_text(await chat.say(job_family="any"))  # the "Any job type" quick reply
    assert titles_in(wider) == ["Mandarin Translator (part time)", "Finance Business Partner"]
    assert chat.slots["keyword"] == "part time" and chat.slots["location"] == "London"

    dropped = only_text(await chat.say(keyword="any"))  # the "Any keyword" quick reply
    assert chat.slots["keyword"] is None
    assert titles_in(dropped) == [
        "Summer Intelligence Internship 2027",
        "Arabic Linguist",
        "Technology Graduate Development Programme",
    ]


async def test_the_broaden_quick_replies_run_the_search(chat: Conversation):
    messages = await chat.say(job_family="surveillance", location="Cheltenham")
    assert not titles_in(only_text(messages))
    [any_location] = [b for b in messages[0]["buttons"] if b["title"] == "Any location"]
    assert any_location["payload"] == '/search_vacancies{"location":"anywhere"}'

    text = only_text(await chat.say(location="anywhere"))

    assert titles_in(text) == [
        "Mobile Surveillance Officer",
        "Mobile Surveillance Officer, Greater Manchester",
    ]


async def test_show_more_pages_on_and_says_when_there_are_no_more(chat: Conversation):
    first = await chat.say(job_family="corporate")
    assert "Show more" in button_titles(first)
    assert chat.slots["vacancies_shown"] == 3

    assert titles_in(only_text(first)) == [
        "Vetting Officer Development Programme",
        "HR Business Partner",
        "Finance Business Partner",
    ]

    second = await chat.say("more_vacancies")
    assert titles_in(only_text(second)) == ["Procurement Manager"]
    assert "More open corporate vacancies (4 of 4):" in only_text(second)
    assert "Show more" not in button_titles(second)

    end = only_text(await chat.say("more_vacancies"))
    assert "you've seen all 4 open corporate vacancies" in end
    assert "job alerts" in end


async def test_show_more_with_no_search_asks_the_job_family(chat: Conversation):
    assert "What kind of role" in only_text(await chat.say("more_vacancies"))


async def test_a_new_general_question_starts_again(chat: Conversation):
    await chat.say(job_family="languages", location="London", keyword="arabic")
    assert "What kind of role" in only_text(await chat.say())
    assert chat.slots == {
        "job_family": None,
        "location": None,
        "keyword": None,
        "vacancies_shown": None,
    }


async def test_an_unknown_job_family_word_is_searched_as_a_keyword(chat: Conversation):
    text = only_text(await chat.say(job_family="translator"))
    assert "languages" in text
    text = only_text(await chat.say(job_family="mandarin"))
    assert titles_in(text) == ["Mandarin Translator (part time)"]
    assert chat.slots["keyword"] == "mandarin" and chat.slots["job_family"] is None


async def test_a_place_we_do_not_recruit_in(chat: Conversation):
    text = only_text(await chat.say(job_family="technology", location="Glasgow"))
    assert "I couldn't find any open technology vacancies in Glasgow right now" in text


async def test_closing_today_and_tomorrow(domain):
    records = [
        Record("1", "Today", "Corporate", ("London",), "2026-11-28T23:00:00+00:00"),
        Record("2", "Tomorrow", "Corporate", ("London",), "2026-11-29"),
        Record("3", "Earlier Today", "Corporate", ("London",), "2026-11-28T09:00:00+00:00"),
    ]
    with FeedServer() as server:
        server.serve(jobposting_feed(records))
        chat = Conversation(settings_for(server.url), domain)
        text = only_text(await chat.say(job_family="corporate"))
    assert titles_in(text) == ["Today", "Tomorrow"]  # 9am today has passed at noon
    assert "Closes 28 November 2026 (today)" in text
    assert "Closes 29 November 2026 (tomorrow)" in text


async def test_long_titles_links_and_non_latin_text_still_fit_one_message(domain):
    records = [
        Record(str(n), "📡 Специалист по кибербезопасности " * 12, "Technology", ("London",),
               f"2027-01-0{n}", description="<p>" + "非常に長い説明。" * 300 + "</p>")
        for n in range(1, 8)
    ]  # fmt: skip
    document = jobposting_feed(records)
    for element in document["itemListElement"]:
        element["item"]["url"] = "https://www.mi5.gov.uk/careers/jobs/" + "x" * 250
    with FeedServer() as server:
        server.serve(document)
        chat = Conversation(settings_for(server.url), domain)
        # Conversation.say checks every message against Instagram's limits.
        pages = await every_page(chat, job_family="tech")
    assert sum(len(titles_in(page)) for page in pages) == 7
