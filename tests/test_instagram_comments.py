"""Comments, live comments, story replies and mentions, end to end: signed webhook bodies
in Meta's documented shape against the real Rasa server and action server with the
Instagram channel, the local Graph API stand-in, and a stand-in for the desk's
``/api/live-questions`` (the desk is another service to the channel).

A comment that must get no private reply is followed by a "sentinel": a careers question
from the same commenter. One commenter's comments are handled strictly in order, so once
the sentinel's reply has arrived any reply to the earlier comment would have too.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from channels.instagram import replies
from channels.instagram.comment_answers import INVITATION
from channels.instagram.formatting import split_text
from scripts.stack import ROOT, Stack
from tests.support.desk_stand_in import DeskStandIn
from tests.support.graph_api_stand_in import Failure, GraphApiStandIn
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
DESK_TOKEN = "desk-service-" + "x" * 24
POST_MEDIA = "18000000000000101"
LIVE_MEDIA = "18000000000000777"
UNCOVERED_MEDIA = "18000000000000999"
CAP = 60
WAIT = 90.0
CAREERS_QUESTION = "how do I apply for a job at MI5?"
d = Deliveries()


@pytest.fixture(scope="module")
def graph() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(access_token=KEYS.access_token) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def desk() -> Iterator[DeskStandIn]:
    with DeskStandIn(service_token=DESK_TOKEN) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def server(trained_model: Path, graph: GraphApiStandIn, desk: DeskStandIn) -> Iterator[Stack]:
    env = {
        "INSTAGRAM_PRIVATE_REPLY_MEDIA": f"{POST_MEDIA},{LIVE_MEDIA}",
        "INSTAGRAM_PRIVATE_REPLIES_PER_HOUR": str(CAP),
    }
    with (
        tempfile.TemporaryDirectory(prefix="careers-comments-") as tmp,
        rasa_with_instagram(
            trained_model, graph.url, KEYS, Path(tmp), extra_env=env, desk=(desk.port, DESK_TOKEN)
        ) as stack,
    ):
        yield stack


@pytest.fixture(scope="module")
def answers() -> Dict[str, str]:
    texts = {
        name: variants[0]["text"]
        for name, variants in load_data(str(ROOT / "data" / "responses")).responses.items()
    }
    for name, variants in Domain.load(str(ROOT / "domain.yml")).responses.items():
        if variants and variants[0].get("text"):
            texts[name] = variants[0]["text"]
    return texts


class Comments:
    def __init__(self, server: Stack, graph: GraphApiStandIn, desk: DeskStandIn, answers):
        self.url = f"{server.url}/webhooks/instagram/webhook"
        self.replies_url = f"{server.url}/webhooks/instagram/private_replies"
        self.server = server
        self.graph = graph
        self.desk = desk
        self.answers = answers

    def deliver(self, payload: Any) -> requests.Response:
        body = encode(payload)
        reply = requests.post(
            self.url, data=body, headers=signed_headers(KEYS.app_secret, body), timeout=30
        )
        assert reply.status_code == 200 and reply.text == "EVENT_RECEIVED", reply.text
        return reply

    def comment(self, text: str | None, commenter: str, **kwargs: Any) -> str:
        """Deliver one comment; returns its id."""
        sent_at = kwargs.pop("sent_at", None)
        change = d.comment(text, commenter, **kwargs)
        self.deliver(d.changes(change, sent_at=sent_at))
        return change["value"]["id"]

    def topic_of(self, text: str) -> str:
        """What the loaded model understands the text to ask ("faq/<topic>")."""
        parsed = requests.post(
            f"{self.server.url}/model/parse",
            params={"token": self.server.token},
            json={"text": text},
            timeout=30,
        ).json()
        return parsed["response_selector"]["faq"]["response"]["intent_response_key"]

    def answer_start(self, name: str) -> str:
        return split_text(self.answers[name])[0][:60]

    def wait_reply(self, comment_id: str) -> List[Any]:
        assert self.graph.wait_for(
            lambda: len(self.graph.private_replies_to(comment_id)) >= 1, WAIT
        ), f"no private reply to {comment_id}"
        return self.graph.private_replies_to(comment_id)

    def sentinel(self, commenter: str, media_id: str = POST_MEDIA) -> None:
        comment_id = self.comment(CAREERS_QUESTION, commenter, media_id=media_id)
        self.wait_reply(comment_id)

    def tracker(self, sender: str) -> Any:
        reply = requests.get(
            f"{self.server.url}/conversations/instagram:{sender}/tracker",
            params={"token": self.server.token},
            timeout=30,
        )
        assert reply.status_code == 200
        return reply.json()

    def ask_desk(self, body: Any, token: str | None = DESK_TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.replies_url, json=body, headers=headers, timeout=60)


@pytest.fixture
def comments(server, graph, desk, answers) -> Comments:
    return Comments(server, graph, desk, answers)


def pseudonym(commenter: str) -> str:
    return hmac.new(DESK_TOKEN.encode(), commenter.encode(), hashlib.sha256).hexdigest()[:16]


# --- private replies to comments -------------------------------------------------------


def test_a_careers_comment_gets_exactly_one_private_reply_with_the_topic_answer(comments, graph):
    commenter = new_sender()
    comment_id = comments.comment(CAREERS_QUESTION, commenter)
    (reply,) = comments.wait_reply(comment_id)
    assert reply.path == f"/v25.0/{ACCOUNT_ID}/messages"
    assert reply.body["recipient"] == {"comment_id": comment_id}
    assert set(reply.body["message"]) == {"text"}
    topic = comments.topic_of(CAREERS_QUESTION)
    assert reply.text.startswith(comments.answer_start(f"utter_{topic}"))
    assert reply.text.endswith(INVITATION)
    assert len(reply.text.encode("utf-8")) <= 1000
    comments.sentinel(commenter)
    assert len(graph.private_replies_to(comment_id)) == 1
    # Never a public reply (POST /<comment-id>/replies), never a DM by IGSID.
    assert not [r for r in graph.requests if r.path.endswith("/replies")]
    assert graph.sent_to(commenter) == []


def test_a_redelivered_comment_is_not_answered_twice(comments, graph):
    commenter = new_sender()
    change = d.comment(CAREERS_QUESTION, commenter)
    delivery = d.changes(change)
    for _ in range(3):
        comments.deliver(delivery)
    comments.wait_reply(change["value"]["id"])
    comments.sentinel(commenter)
    assert len(graph.private_replies_to(change["value"]["id"])) == 1


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather like in Paris tomorrow",
        "love this post!! 😍",
        "you lot are useless idiots",
        "hello",
        None,
        "🔥🔥🔥",
        "   ",
    ],
    ids=["off-topic", "compliment", "abuse", "greeting", "no-text", "emoji-only", "blank"],
)
def test_comments_that_ask_nothing_get_no_private_reply(comments, graph, text):
    commenter = new_sender()
    comment_id = comments.comment(text, commenter)
    comments.sentinel(commenter)
    assert graph.private_replies_to(comment_id) == []


def test_the_accounts_own_comments_get_no_private_reply(comments, graph):
    own = comments.comment(CAREERS_QUESTION, ACCOUNT_ID)
    comments.sentinel(new_sender())
    time.sleep(1)
    assert graph.private_replies_to(own) == []


@pytest.mark.parametrize(
    "text, response",
    [
        ("I want to end my life, I can't cope any more", "utter_distress"),
        ("I know someone planning a bomb attack next week", "utter_report_threat"),
    ],
)
def test_safety_comments_get_the_fixed_safety_answer_privately(comments, text, response):
    comment_id = comments.comment(text, new_sender())
    (reply,) = comments.wait_reply(comment_id)
    assert reply.text.startswith(comments.answer_start(response))
    assert INVITATION not in reply.text


def test_long_and_marked_up_comments_are_taken_as_plain_text(comments, graph, desk):
    graph.start_live(ACCOUNT_ID, LIVE_MEDIA)
    commenter = new_sender()
    markup = '<script>alert("x")</script><b>how do I apply?</b> &amp; <img src=x onerror=1>'
    longest = ("how do I apply? " * 200)[:2200]
    assert len(longest) == 2200
    marked, long_id = new_comment_id(), new_comment_id()
    comments.deliver(
        d.changes(
            d.live_comment(markup, LIVE_MEDIA, commenter, marked),
            d.live_comment(longest, LIVE_MEDIA, commenter, long_id),
        )
    )
    comments.sentinel(commenter)
    # Whether they are answered is the model's call; the markup is never echoed back.
    for comment_id in (marked, long_id):
        replies_sent = graph.private_replies_to(comment_id)
        assert len(replies_sent) <= 1 and all("<" not in r.text for r in replies_sent)
    # The board gets the text exactly as written (the desk renders it as text).
    assert desk.wait_for(lambda: desk.stored(marked) and desk.stored(long_id), WAIT)
    assert desk.stored(marked)["text"] == markup
    assert desk.stored(long_id)["text"] == longest


def test_comments_on_media_not_covered_get_no_private_reply(comments, graph):
    commenter = new_sender()
    comment_id = comments.comment(CAREERS_QUESTION, commenter, media_id=UNCOVERED_MEDIA)
    comments.sentinel(commenter)
    assert graph.private_replies_to(comment_id) == []


def test_a_comment_older_than_seven_days_gets_no_private_reply(comments, graph):
    commenter = new_sender()
    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    change = d.comment(CAREERS_QUESTION, commenter)
    comments.deliver(d.changes(change, sent_at=eight_days_ago))
    comments.sentinel(commenter)
    assert graph.private_replies_to(change["value"]["id"]) == []


def test_unsigned_or_wrongly_signed_comments_are_refused_and_nothing_is_done(comments, graph, desk):
    commenter = new_sender()
    change = d.live_comment(CAREERS_QUESTION, LIVE_MEDIA, commenter)
    body = encode(d.changes(change))
    for headers in ({}, signed_headers("wrong-secret", body)):
        reply = requests.post(comments.url, data=body, headers=headers, timeout=30)
        assert reply.status_code == 403
    comments.sentinel(commenter)
    assert graph.private_replies_to(change["value"]["id"]) == []
    assert desk.calls_for(change["value"]["id"]) == []


def test_graph_rate_limits_are_retried_and_permission_errors_are_not(comments, graph):
    limited, refused = new_comment_id(), new_comment_id()
    graph.fail_next(limited, [Failure(status=400, code=4), Failure(status=429)])
    graph.always_fail(refused, Failure(status=403, code=10))
    commenter = new_sender()
    comments.comment(CAREERS_QUESTION, commenter, comment_id=limited)
    comments.comment(CAREERS_QUESTION, commenter, comment_id=refused)
    comments.sentinel(commenter)
    assert [r.status for r in graph.private_replies_to(limited)] == [400, 429, 200]
    assert [r.status for r in graph.private_replies_to(refused)] == [403]
    log = Path(comments.server.log.name).read_text(errors="replace")
    assert KEYS.access_token not in log and CAREERS_QUESTION not in log


# --- live comments and the desk's board -----------------------------------------------


def test_live_comments_are_answered_while_live_and_forwarded_to_the_desk(comments, graph, desk):
    graph.start_live(ACCOUNT_ID, LIVE_MEDIA)
    commenter = new_sender()
    question = new_comment_id()
    chatter = new_comment_id()
    comments.deliver(
        d.changes(
            d.live_comment(CAREERS_QUESTION, LIVE_MEDIA, commenter, question),
            d.live_comment("you lot are useless idiots", LIVE_MEDIA, commenter, chatter),
        )
    )
    (reply,) = comments.wait_reply(question)
    assert reply.text.endswith(INVITATION)
    assert desk.wait_for(lambda: desk.stored(question) and desk.stored(chatter), WAIT)
    forwarded = desk.stored(question)
    assert forwarded["media_id"] == LIVE_MEDIA and forwarded["text"] == CAREERS_QUESTION
    assert forwarded["commenter"] == pseudonym(commenter)
    assert forwarded["topic"] == comments.topic_of(CAREERS_QUESTION)
    assert forwarded["abuse"] is False and isinstance(forwarded["created_time"], int)
    assert desk.stored(chatter)["abuse"] is True and desk.stored(chatter)["topic"] is None
    (call,) = desk.calls_for(question)
    assert call.headers["Authorization"] == f"Bearer {DESK_TOKEN}"
    assert commenter not in str(call.body) and "user" not in str(call.body)
    assert graph.private_replies_to(chatter) == []


def test_a_live_comment_after_the_broadcast_ended_gets_no_private_reply(comments, graph, desk):
    media = LIVE_MEDIA
    graph.end_live(media)
    time.sleep(11)  # the channel trusts its last look at live_media for 10 s
    commenter = new_sender()
    late = comments.comment(
        CAREERS_QUESTION, commenter, media_id=media, product_type="LIVE", field="live_comments"
    )
    assert desk.wait_for(lambda: desk.stored(late) is not None, WAIT)
    comments.sentinel(commenter)
    assert graph.private_replies_to(late) == []


def test_a_desk_that_is_down_is_retried_in_the_background(comments, graph, desk):
    graph.start_live(ACCOUNT_ID, LIVE_MEDIA)
    desk.fail_next(2)
    comment_id = new_comment_id()
    comments.deliver(
        d.changes(d.live_comment("when is the next intake", LIVE_MEDIA, None, comment_id))
    )
    assert desk.wait_for(lambda: desk.stored(comment_id) is not None, WAIT)
    assert [c.status for c in desk.calls_for(comment_id)][-1] == 201


def test_the_desk_sends_a_groups_answer_by_the_same_rules(comments, graph, desk):
    graph.start_live(ACCOUNT_ID, LIVE_MEDIA)
    time.sleep(11)
    topic = comments.topic_of(CAREERS_QUESTION)
    quiet = new_comment_id()  # a live comment the channel did not answer itself
    comments.deliver(d.changes(d.live_comment("when is the next intake", LIVE_MEDIA, None, quiet)))
    assert desk.wait_for(lambda: desk.stored(quiet) is not None, WAIT)
    asked = [
        {"comment_id": quiet, "topic": topic},
        {"comment_id": "17900000000000000", "topic": topic},
    ]
    reply = comments.ask_desk({"replies": asked})
    assert reply.status_code == 200, reply.text
    assert reply.json()["results"] == [
        {"comment_id": quiet, "status": "sent"},
        {"comment_id": "17900000000000000", "status": "error"},
    ]
    (sent,) = graph.private_replies_to(quiet)
    assert sent.text.startswith(comments.answer_start(f"utter_{topic}"))
    again = comments.ask_desk({"replies": asked[:1]})
    assert again.json()["results"] == [{"comment_id": quiet, "status": "duplicate"}]

    ended = new_comment_id()
    comments.deliver(d.changes(d.live_comment("is the pay good", LIVE_MEDIA, None, ended)))
    assert desk.wait_for(lambda: desk.stored(ended) is not None, WAIT)
    graph.end_live(LIVE_MEDIA)
    time.sleep(11)
    late = comments.ask_desk({"replies": [{"comment_id": ended, "topic": topic}]})
    assert late.json()["results"] == [{"comment_id": ended, "status": "not_live"}]
    assert len(graph.private_replies_to(quiet)) == 1


def test_the_private_replies_endpoint_needs_the_token_and_good_input(comments):
    good = {"replies": [{"comment_id": "1", "topic": comments.topic_of(CAREERS_QUESTION)}]}
    assert comments.ask_desk(good, token=None).status_code == 401
    assert comments.ask_desk(good, token="wrong").status_code == 401
    too_many = {"replies": good["replies"] * 101}
    bad: Any
    for bad in (
        [],
        {},
        {"replies": []},
        {"replies": "x"},
        too_many,
        {"replies": [{"comment_id": "1"}]},
        {"replies": [{"comment_id": "", "topic": "faq/process_how_to_apply"}]},
        {"replies": [{"comment_id": "1", "topic": "faq/no_such_topic"}]},
        {"replies": [{"comment_id": "1", "topic": "utter_greet"}]},
    ):
        reply = comments.ask_desk(bad)
        assert reply.status_code == 400, bad
        assert reply.json()["error"]
    raw = requests.post(
        comments.replies_url,
        data=b"{not json",
        headers={"Authorization": f"Bearer {DESK_TOKEN}"},
        timeout=30,
    )
    assert raw.status_code == 400


# --- story replies and mentions -------------------------------------------------------


def test_a_story_reply_is_answered_as_a_direct_message(comments, graph):
    sender = new_sender()
    comments.deliver(d.delivery(d.story_reply(sender, CAREERS_QUESTION)))
    texts = graph.wait_for_sends(sender, 1, WAIT)
    topic = comments.topic_of(CAREERS_QUESTION)
    assert texts and texts[0].startswith(comments.answer_start(f"utter_{topic}"))


def test_a_story_mention_gets_one_thank_you_a_day_with_the_ice_breakers(comments, graph):
    sender = new_sender()
    comments.deliver(d.delivery(d.story_mention(sender)))
    (thanks,) = graph.wait_for_sends(sender, 1, WAIT)
    assert thanks == replies.STORY_MENTION_THANKS
    payloads = [q["payload"] for q in graph.sent_to(sender)[0].message["quick_replies"]]
    assert payloads == [b["payload"] for b in replies.ice_breaker_buttons()]
    comments.deliver(d.delivery(d.story_mention(sender)))
    comments.deliver(d.delivery(d.story_reply(sender, CAREERS_QUESTION)))
    graph.wait_for_sends(sender, 2, WAIT)
    assert graph.texts_to(sender).count(replies.STORY_MENTION_THANKS) == 1
    # The story itself is never fetched, stored or logged.
    log = Path(comments.server.log.name).read_text(errors="replace")
    assert "lookaside" not in log and "lookaside" not in str(comments.tracker(sender))


# --- the hourly cap (last: it uses up the hour) ----------------------------------------


def test_private_replies_never_exceed_the_hourly_cap_and_the_excess_is_skipped(comments, graph):
    commenter = new_sender()
    ids = [new_comment_id() for _ in range(CAP + 10)]
    for start in range(0, len(ids), 10):
        comments.deliver(
            d.changes(*(d.comment(CAREERS_QUESTION, commenter, c) for c in ids[start : start + 10]))
        )

    # Every private reply the channel attempted took one slot of the hour (a refused one too).
    def attempted() -> int:
        return len({r.comment_id for r in graph.private_replies()})

    assert graph.wait_for(lambda: attempted() >= CAP, WAIT * 2), attempted()
    assert graph.wait_for(lambda: False, 5) is False  # let any stragglers arrive
    assert attempted() == CAP
    answered = {r.comment_id for r in graph.private_replies() if r.status == 200}
    assert 0 < len(answered & set(ids)) < len(ids)
