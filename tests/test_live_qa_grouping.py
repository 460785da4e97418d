"""Live Q&A grouping, storage and intake checks, in process on a fresh desk database."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from desk.live_qa_grouping import BroadcastIndex
from desk.live_qa_intake import MAX_TEXT_CHARS, BadQuestion, parse, redact
from desk.live_qa_store import LiveQaStore, NewQuestion, as_rows
from desk.storage import Store, make_engine, migrate
from tests.privacy_support import BACKENDS, database
from tests.support.live_qa import comment

HOW_TO_APPLY = "faq/process_how_to_apply"
DEGREE = "faq/eligibility_qualifications"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveQaStore]:
    """The desk's tables on SQLite (as `make run`) and on PostgreSQL (as production)."""
    with database(request.param, tmp_path) as db:
        migrate(db.url)
        engine = make_engine(db.url)
        yield LiveQaStore(engine)
        engine.dispose()


def add(store: LiveQaStore, number: int, text: str, who: str, topic: str | None = None,
        abuse: bool = False, media: str = "live-1") -> Any:  # fmt: skip
    new = NewQuestion(f"c{number}", media, text, who, 1_796_000_000, topic, abuse)
    return store.add(new, 1_796_000_000.0 + number)


def groups_by_example(board: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {group["examples"][0]: group for group in board["groups"]}


# The index alone


def test_near_duplicates_without_a_topic_share_a_group():
    index = BroadcastIndex()
    assert index.place("Can I apply at 17?", None).group_id is None
    index.learn(1, "Can I apply at 17?", None)
    assert index.place("can i apply at 17", None).group_id == 1
    assert index.place("Can I apply at 17 ??", None).group_id == 1
    assert index.place("what is the salary for analysts", None).group_id is None


def test_the_same_topic_is_one_group_whatever_the_wording():
    index = BroadcastIndex()
    index.learn(1, "how do I apply", HOW_TO_APPLY)
    assert index.place("whats the application process like", HOW_TO_APPLY).group_id == 1
    assert index.place("do i need a degree", DEGREE).group_id is None


def test_a_topic_less_group_takes_the_topic_of_a_near_duplicate():
    index = BroadcastIndex()
    index.learn(1, "where do I send my CV", None)
    placed = index.place("where do I send my CV?", HOW_TO_APPLY)
    assert (placed.group_id, placed.adopt_topic) == (1, True)
    index.learn(1, "where do I send my CV?", HOW_TO_APPLY)
    assert index.place("how do I apply", HOW_TO_APPLY).group_id == 1


def test_a_near_duplicate_of_another_topics_group_does_not_take_it_over():
    index = BroadcastIndex()
    index.learn(1, "do you need a degree to apply", DEGREE)
    assert index.place("do you need a degree to apply", HOW_TO_APPLY).group_id is None
    # A question with no topic joins the near-duplicate, topic and all.
    assert index.place("do you need a degree to apply?", None).group_id == 1


# The store: groups, counts, order, abuse


def test_groups_count_distinct_people_and_sort_by_them(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY)
    add(store, 2, "How do I apply", "ben")
    add(store, 3, "how do i apply", "ana")  # the same person again
    add(store, 4, "whats the application process", "cat", HOW_TO_APPLY)
    add(store, 5, "do I need a degree", "dan", DEGREE)
    add(store, 6, "do I need a degree?", "eve")
    add(store, 7, "is the pay good", "fay")
    board = store.board("live-1")
    people = [(group["topic"], group["people"], group["questions"]) for group in board["groups"]]
    assert people == [(HOW_TO_APPLY, 3, 4), (DEGREE, 2, 2), (None, 1, 1)]
    assert board["groups"][0]["examples"][0] == "how do I apply?"
    assert "whats the application process" in board["groups"][0]["examples"]
    assert (board["questions"], board["people"], board["abuse_hidden"]) == (7, 6, 0)


def test_abuse_is_counted_and_never_shown(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY)
    stored = add(store, 2, "", "troll", abuse=True)
    assert stored.group_id is None
    board = store.board("live-1")
    assert board["abuse_hidden"] == 1
    assert [group["people"] for group in board["groups"]] == [1]


def test_a_comment_id_seen_before_is_a_duplicate(store: LiveQaStore):
    first = add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY)
    again = add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY)
    assert not first.duplicate and again.duplicate
    assert again.question_id == first.question_id
    assert store.board("live-1")["questions"] == 1


def test_a_batch_is_grouped_as_if_its_questions_came_one_by_one(store: LiveQaStore):
    def new(number: int, text: str, who: str, topic: str | None = None) -> NewQuestion:
        return NewQuestion(f"b{number}", "live-1", text, who, 1_796_000_000, topic, False)

    add(store, 1, "is the pay good", "ana")
    stored = store.add_many([
        (new(2, "can I apply at 17", "ben"), 1.0),
        (new(3, "can i apply at 17?", "cat"), 1.0),
        (new(2, "can I apply at 17", "ben"), 1.0),  # the channel sent it twice
        (new(4, "Is the pay good?", "dan"), 1.0),
        (new(5, "how do I apply", "eve", HOW_TO_APPLY), 1.0),
        (new(6, "whats the process", "fay", HOW_TO_APPLY), 1.0),
    ])  # fmt: skip
    assert [s.duplicate for s in stored] == [False, False, True, False, False, False]
    assert stored[0].group_id == stored[1].group_id == stored[2].group_id
    assert stored[4].group_id == stored[5].group_id != stored[0].group_id
    people = [(group["examples"][0], group["people"]) for group in store.board("live-1")["groups"]]
    assert people == [("is the pay good", 2), ("can I apply at 17", 2), ("how do I apply", 2)]


def test_broadcasts_are_kept_apart(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY, media="live-1")
    add(store, 2, "how do I apply?", "ben", HOW_TO_APPLY, media="live-2")
    assert store.board("live-1")["people"] == 1
    assert [b["media_id"] for b in store.broadcasts()] == ["live-2", "live-1"]


def test_a_second_store_on_the_same_database_places_questions_the_same_way(
    store: LiveQaStore,
):
    """Two desk replicas: each learns the other's questions from the database."""
    other = LiveQaStore(store.engine)
    add(store, 1, "can I apply at 17", "ana")
    stored = add(other, 2, "can i apply at 17?", "ben")
    assert stored.group_id == add(store, 3, "Can I apply at 17", "cat").group_id
    assert [group["people"] for group in store.board("live-1")["groups"]] == [3]


# Private replies: one per person per group, never twice


def test_private_replies_go_once_to_each_person(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY)
    add(store, 2, "how do i apply", "ana", HOW_TO_APPLY)
    group_id = add(store, 3, "how do I apply", "ben", HOW_TO_APPLY).group_id
    claimed = store.claim_replies(group_id, 1.0)
    # Ana's latest comment and Ben's: one each.
    assert sorted(comment_id for _, comment_id in claimed) == ["c2", "c3"]
    assert store.claim_replies(group_id, 2.0) == [], "being sent: not claimed again"
    outcomes = {question_id: "sent" for question_id, _ in claimed}
    store.finish_replies(group_id, outcomes, "rita", 3.0)
    assert store.claim_replies(group_id, 4.0) == []
    add(store, 4, "how can I apply?", "cat", HOW_TO_APPLY)
    assert [comment_id for _, comment_id in store.claim_replies(group_id, 5.0)] == ["c4"]
    assert store.board("live-1")["groups"][0]["replies"] == {"sent": 2, "sending": 1}


def test_replies_that_failed_may_be_tried_again(store: LiveQaStore):
    group_id = add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY).group_id
    add(store, 2, "how do I apply?", "ben", HOW_TO_APPLY)
    claimed = dict(store.claim_replies(group_id, 1.0))
    by_comment = {comment_id: question_id for question_id, comment_id in claimed.items()}
    store.finish_replies(
        group_id, {by_comment["c1"]: "over_cap", by_comment["c2"]: "expired"}, "rita", 2.0
    )
    assert [comment_id for _, comment_id in store.claim_replies(group_id, 3.0)] == ["c1"]


def test_every_action_is_audited(store: LiveQaStore, tmp_path: Path):
    group_id = add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY).group_id
    store.set_state(group_id, "answered", "rita", 1.0)
    store.set_state(group_id, "hidden", "rita", 2.0)
    store.finish_replies(group_id, {}, "rita", 3.0)
    store.record_export("live-1", "rita", 4.0)
    log = Store(store.engine.url.render_as_string(hide_password=False)).audit_log()
    actions = [(entry["actor"], entry["action"]) for entry in reversed(log)]
    assert actions == [
        ("rita", "live q&a answered"),
        ("rita", "live q&a hidden"),
        ("rita", "live q&a sent privately"),
        ("rita", "live q&a exported"),
    ]
    assert HOW_TO_APPLY in log[-1]["detail"]


def test_the_csv_rows_name_nobody(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana-pseudonym", HOW_TO_APPLY)
    add(store, 2, "", "troll-pseudonym", abuse=True)
    rows = list(as_rows(store.board("live-1"), {HOW_TO_APPLY: "How to apply"}))
    flat = " ".join(str(cell) for row in rows for cell in row)
    assert "How to apply" in flat and "how do I apply?" in flat
    assert "pseudonym" not in flat and "c1" not in flat.split()
    assert rows[-1][1:2] == ["hidden as abuse"] and rows[-1][5] == 1


def test_purge_forgets_old_broadcasts(store: LiveQaStore):
    add(store, 1, "how do I apply?", "ana", HOW_TO_APPLY, media="old")
    add(store, 2, "how do I apply?", "ben", HOW_TO_APPLY, media="new")
    assert store.purge_before(1_796_000_001.5) == 1
    assert [b["media_id"] for b in store.broadcasts()] == ["new"]


# Intake: the channel's body, checked and redacted


def test_a_good_body_parses():
    new = parse(comment(1, "  how do I apply?  ", "p-1", HOW_TO_APPLY))
    assert (new.text, new.topic, new.abuse, new.media_id) == (
        "how do I apply?", HOW_TO_APPLY, False, "live-1",
    )  # fmt: skip


@pytest.mark.parametrize(
    "change, says",
    [
        ({"comment_id": None}, "comment_id"),
        ({"comment_id": 17}, "comment_id"),
        ({"media_id": ""}, "media_id"),
        ({"commenter": ["x"]}, "commenter"),
        ({"text": None}, "text must be a string"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "at most 2200"),
        ({"text": "   "}, "empty"),
        ({"created_time": "yesterday"}, "created_time"),
        ({"created_time": True}, "created_time"),
        ({"created_time": -5}, "created_time"),
        ({"topic": "How to apply!"}, "topic"),
        ({"topic": 3}, "topic"),
        ({"abuse": "no"}, "abuse"),
    ],
)
def test_bad_bodies_say_what_is_wrong(change: Dict[str, Any], says: str):
    body = {**comment(1, "how do I apply?", "p-1"), **change}
    with pytest.raises(BadQuestion, match=says):
        parse(body)


def test_the_longest_comment_and_an_empty_abusive_one_are_accepted():
    assert len(parse(comment(1, "x" * MAX_TEXT_CHARS, "p-1")).text) == MAX_TEXT_CHARS
    assert parse(comment(2, "", "p-2", abuse=True)).abuse


def test_not_an_object_is_refused():
    with pytest.raises(BadQuestion, match="JSON object"):
        parse(["how do I apply?"])


def test_redaction_removes_contact_details_mentions_and_introduced_names():
    text = (
        "Hi, my name is Sarah Jones, email sarah.jones@example.com or call 07700 900123. "
        "@jane.doe_99 should apply too! Can I apply at 17?"
    )
    redacted = redact(text)
    for personal in ("Sarah", "Jones", "sarah.jones", "07700", "jane.doe_99"):
        assert personal not in redacted, redacted
    assert redacted == (
        "Hi, my name is [NAME], email [EMAIL] or call [PHONE]. "
        "[USERNAME] should apply too! Can I apply at 17?"
    )


def test_redaction_keeps_ordinary_questions_and_markup_as_they_are():
    for text in ("can I apply at 17?", "<b>do you hire £35,000 analysts</b>", "call me back?"):
        assert redact(text) == text
