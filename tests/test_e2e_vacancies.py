"""A vacancy search over HTTP, through the real Rasa server and action server.

The action server reads the default feed, the sample in data/vacancies/, with the real clock,
so the expected answer is worked out here from the sample itself.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Dict, List

import pytest
import requests

from actions.settings import DEFAULT_VACANCIES_FEED
from scripts.stack import Stack
from tests.vacancy_feeds import assert_fits_instagram, titles_in


def say(stack: Stack, sender: str, message: str) -> List[Dict[str, Any]]:
    reply = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def open_tech_jobs_in_manchester() -> List[Dict[str, Any]]:
    """From the sample feed: open technology postings in Manchester or several places."""
    document = json.loads(DEFAULT_VACANCIES_FEED.read_text(encoding="utf-8"))
    now = datetime.now(timezone.utc)
    found = []
    for element in document["itemListElement"]:
        posting = element["item"]
        places = posting["jobLocation"]
        places = places if isinstance(places, list) else [places]
        localities = " ".join(json.dumps(place["address"]) for place in places)
        in_manchester = "Manchester" in localities or "Multiple locations" in localities
        closes = datetime.fromisoformat(posting["validThrough"])
        if "Technology" in posting["occupationalCategory"] and in_manchester and closes > now:
            found.append(posting)
    return sorted(found, key=lambda posting: datetime.fromisoformat(posting["validThrough"]))


@pytest.fixture
def sender() -> str:
    return f"e2e-vacancies-{uuid.uuid4().hex[:8]}"


def test_any_tech_jobs_in_manchester(stack: Stack, sender: str):
    expected = open_tech_jobs_in_manchester()

    replies = say(stack, sender, "any tech jobs in manchester?")

    assert len(replies) == 1, replies
    for reply in replies:
        assert_fits_instagram(reply)
    text = replies[0]["text"]
    if not expected:
        pytest.fail(f"the sample feed has no open tech jobs in Manchester any more:\n{text}")
    assert titles_in(text) == [posting["title"] for posting in expected[:3]]
    for posting in expected[:3]:
        assert f"Apply: {posting['url']}" in text
    assert "technology vacanc" in text and "Manchester" in text

    if len(expected) > 3:
        [show_more] = [b for b in replies[0]["buttons"] if b["title"] == "Show more"]
        more = say(stack, sender, show_more["payload"])
        assert titles_in(more[0]["text"]) == [posting["title"] for posting in expected[3:6]]
