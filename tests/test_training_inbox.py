"""The trainers' inbox on synthetic tracker stores: what is selected, grouping, redaction,
decisions, paging through a large store, and the command line.

The same inbox on conversations with the real assistant is in tests/test_training_inbox_live.py.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from desk import inbox_command as inbox_module
from desk.storage import Store, migrate
from desk.training_inbox import collect
from desk.training_store import IGNORED, LABELLED, Decision, Flag, TrainingStore
from scripts.stack import ROOT, quiet_env
from tests.training_store_support import fallback, tracker_store, turn, user
from training import missed_messages
from training.grouping import NearDuplicates, jaccard, key_of, normalise, words_of
from training.inbox_groups import Inbox, InboxItem, InboxQuery
from training.inbox_settings import InboxSettings
from training.missed_messages import FELL_BACK, FLAGGED, HANDOFF, LOW_CONFIDENCE

T0 = 1_790_000_000.0


def conversations() -> List[Dict]:
    rows: List[Dict] = []
    # Two applicants ask the same thing the assistant cannot place; one leaves a phone number.
    rows += turn(
        "amy",
        fallback(
            "amy", "Can I bring my pet hamster to the office?", T0, "faq/life_wellbeing", 0.41
        ),
        "action_not_understood",
    )
    rows += turn(
        "ben",
        fallback("ben", "can i bring my pet hamster to the office", T0 + 5, "faq/life_x", 0.35),
        "action_not_understood",
    )
    rows += turn(
        "cat",
        user(
            "cat",
            "can I bring my hamster to the office? call 07700 900123",
            "out_of_scope",
            0.93,
            T0 + 6,
        ),
        "action_not_understood",
    )
    # Understood, but not sure which topic: low confidence.
    rows += turn(
        "dan",
        user(
            "dan",
            "what's the deal with polygraphs",
            "faq",
            0.88,
            T0 + 10,
            "faq/process_vetting",
            0.42,
        ),
        "utter_faq",
    )
    # Understood well: not in the inbox.
    rows += turn(
        "eve",
        user("eve", "how old do I need to be?", "faq", 0.99, T0 + 11, "faq/eligibility_age", 0.97),
        "utter_faq",
    )
    # A question answered confidently, then "talk to a person": the question led to a handoff.
    rows += turn(
        "fay",
        user(
            "fay",
            "I have dual nationality and lived abroad, can I apply? email fay@example.com",
            "faq",
            0.95,
            T0 + 20,
            "faq/eligibility_nationality",
            0.9,
        ),
        "utter_faq",
    )
    rows += turn(
        "fay",
        user("fay", "can I talk to a person", "request_human", 0.98, T0 + 25),
        "action_handoff_to_recruiter",
    )
    # Buttons and small talk.
    rows += turn("gus", user("gus", "/greet", "greet", 1.0, T0 + 30), "utter_greet")
    rows += turn(
        "gus",
        user("gus", "faq/process_vetting", "faq", 1.0, T0 + 31, "faq/process_vetting", 1.0),
        "utter_faq",
    )
    rows += turn("gus", user("gus", "thanks", "thank", 0.99, T0 + 32), "utter_thank")
    # A message a recruiter will flag (understood, so only the flag brings it in).
    rows += turn(
        "hal",
        user("hal", "do you pay relocation costs", "faq", 0.97, T0 + 40, "faq/life_salary", 0.91),
        "utter_faq",
    )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = tracker_store(tmp_path / "tracker.db", conversations())
    migrate(url)  # the desk's tables live beside Rasa's
    return url


def run(url: str, **query) -> Inbox:
    return collect(InboxSettings(tracker_url=url, desk_url=url), InboxQuery(**query))


def by_text(inbox: Inbox) -> Dict[str, InboxItem]:
    return {item.text: item for item in inbox.items}


def test_selects_fallbacks_low_confidence_and_the_question_behind_a_handoff(store: str):
    found = run(store)
    items = by_text(found)
    assert set(items) == {
        "Can I bring my pet hamster to the office?",
        "can I bring my hamster to the office? call [PHONE]",
        "what's the deal with polygraphs",
        "I have dual nationality and lived abroad, can I apply? email [EMAIL]",
    }
    hamster = items["Can I bring my pet hamster to the office?"]
    assert hamster.count == 2  # amy and ben: the same words, other case and punctuation
    assert hamster.reasons[FELL_BACK] == 2 and hamster.topic in ("faq/life_wellbeing", "faq/life_x")
    assert hamster.confidence == pytest.approx((0.41 + 0.35) / 2)
    assert items["can I bring my hamster to the office? call [PHONE]"].reason == FELL_BACK
    polygraph = items["what's the deal with polygraphs"]
    assert (polygraph.topic, polygraph.reason) == ("faq/process_vetting", LOW_CONFIDENCE)
    assert polygraph.confidence == pytest.approx(0.42)  # the response selector's, the lower
    handed = items["I have dual nationality and lived abroad, can I apply? email [EMAIL]"]
    assert (handed.topic, handed.reason) == ("faq/eligibility_nationality", HANDOFF)
    assert found.messages == 5 and found.groups == 4
    assert "07700" not in json.dumps([item.as_row() for item in found.items])


def test_the_confidence_threshold_is_a_setting(store: str):
    strict = by_text(run(store, confidence=0.98))
    assert strict["how old do I need to be?"].reason == LOW_CONFIDENCE  # 0.97 < 0.98
    assert "what's the deal with polygraphs" not in by_text(run(store, confidence=0.4))


def test_a_flagged_message_is_in_the_inbox_with_its_prediction(store: str):
    TrainingStore(Store(store).engine).flag(
        Flag("hal", T0 + 40, "do you pay relocation costs", 7, "alice", T0 + 100)
    )
    items = by_text(run(store))
    flagged = items["do you pay relocation costs"]
    assert (flagged.reason, flagged.topic) == (FLAGGED, "faq/life_salary")
    assert flagged.confidence == pytest.approx(0.91)


def test_a_flag_whose_message_is_gone_still_shows_its_redacted_text(store: str):
    TrainingStore(Store(store).engine).flag(
        Flag("zed", T0 - 999, "purged question [EMAIL]", None, "alice", T0)
    )
    item = by_text(run(store))["purged question [EMAIL]"]
    assert (item.reason, item.topic, item.confidence) == (FLAGGED, "", None)


def test_labelled_or_ignored_messages_and_their_near_duplicates_stay_out(store: str):
    training = TrainingStore(Store(store).engine)
    training.decide(
        Decision(
            key_of("can i bring my pet hamster to the office"),
            "can i bring my pet hamster to the office",
            LABELLED,
            "life_pets",
            "tina",
            T0 + 100,
        )
    )
    training.decide(
        Decision(
            key_of("What's the deal with polygraphs?!"),
            "What's the deal with polygraphs?!",
            IGNORED,
            None,
            "tina",
            T0 + 100,
        )
    )
    found = run(store)
    # Left out: amy's and ben's (the labelled words, in other case and punctuation) and dan's.
    # Kept: cat's, which shares only 8 of its 11 words with the labelled one (0.73 < 0.75).
    assert set(by_text(found)) == {
        "can I bring my hamster to the office? call [PHONE]",
        "I have dual nationality and lived abroad, can I apply? email [EMAIL]",
    }
    assert found.excluded == 3


def test_since_leaves_out_older_messages(store: str):
    assert set(by_text(run(store, since=T0 + 15))) == {
        "I have dual nationality and lived abroad, can I apply? email [EMAIL]",
    }


def test_small_talk_and_lookback_are_the_handoff_actions_own():
    from actions import handoff

    assert missed_messages.SMALL_TALK == handoff.SMALL_TALK
    assert missed_messages.QUESTION_LOOKBACK == handoff.QUESTION_LOOKBACK
    assert handoff.ActionHandoffToRecruiter().name() == missed_messages.HANDOFF_ACTION


# Grouping


def test_near_duplicates_are_grouped_and_different_questions_are_not():
    groups: NearDuplicates[str] = NearDuplicates(0.75, keep_members=10)
    for text in [
        "How old do I have to be to apply?",
        "how old do i have to be to apply",
        "How old do I HAVE to be, to apply!!",
        "how old do you have to be to apply",
        "Do I need a degree?",
        "do i need a degree",
        "How long does vetting take?",
    ]:
        groups.add(text, text)
    assert [(g.text, g.count) for g in groups] == [
        ("How old do I have to be to apply?", 4),
        ("Do I need a degree?", 2),
        ("How long does vetting take?", 1),
    ]
    assert normalise("Don't  SHOUT, it\u2019s fine!") == "dont shout its fine"
    assert key_of("Do I need a degree?") == key_of("do i need a degree")


def test_prefix_filtering_finds_exactly_what_comparing_with_every_group_finds():
    rng = random.Random(6)
    common = "can i apply join mi5 age degree vetting pay london the a to how old job"
    vocabulary = common.split(" ")
    texts = [" ".join(rng.choices(vocabulary, k=rng.randint(1, 8))) for _ in range(600)]
    indexed: NearDuplicates[str] = NearDuplicates(0.6)
    reps: List[tuple] = []
    for text in texts:
        group = indexed.add(text, text)
        words = words_of(normalise(text))
        scores = [(jaccard(words, rep_words), n) for n, (rep_words, _) in enumerate(reps)]
        best = max((s for s in scores if s[0] >= 0.6), default=None, key=lambda s: s[0])
        if best is None:
            reps.append((words, text))
            assert group.text == text
        else:
            assert jaccard(words, group.words) == pytest.approx(best[0])
    assert len(indexed) == len(reps)
    assert indexed.comparisons < len(texts) * len(reps) / 2  # candidates, not every group


# A store with many events


MISSED = [
    "is there a staff discount in the canteen? email me x{n}@mail.com",
    "can I bring my dog to work",
    "do spies get free gym membership",
]


def big_store(path: Path, conversations_count: int) -> tuple:
    """Many short conversations over several days; every tenth applicant is not understood."""
    missed = 0

    def rows():
        nonlocal missed
        for n in range(conversations_count):
            sender = f"applicant-{n}"
            at = T0 + n * 30.0  # one conversation starts every 30 s
            yield from turn(sender, user(sender, "hello", "greet", 0.99, at), "utter_greet")
            question = user(
                sender, "how old must I be", "faq", 0.97, at + 1, "faq/eligibility_age", 0.95
            )
            yield from turn(sender, question, "utter_faq")
            if n % 10 == 0:
                missed += 1
                text = MISSED[n % 3].format(n=n)
                yield from turn(
                    sender,
                    fallback(sender, text, at + 2, "faq/life_benefits", 0.3),
                    "action_not_understood",
                )
            yield from turn(sender, user(sender, "thanks", "thank", 0.99, at + 3), "utter_thank")

    url = tracker_store(path, rows())
    return url, missed


def test_a_large_store_is_read_in_pages_in_bounded_memory(tmp_path: Path):
    url, missed = big_store(tmp_path / "big.db", 16_000)
    found = run(url, page_size=500)
    # Each turn is a user row, an answer action and action_listen (its bot row is not read):
    # 3 turns a conversation, a fourth for every tenth; about 200,000 rows in all.
    assert missed == 1600
    assert found.rows == 16_000 * 3 * 3 + missed * 3 == 148_800
    assert found.pages == -(-found.rows // 500) == 298 and found.largest_page == 500
    # Conversations are forgotten an hour after they go quiet: about 120 at a time, not 16,000.
    assert found.peak_conversations <= 3600 / 30 + 2
    assert found.messages == missed
    counts = {item.text: item.count for item in found.items}
    assert counts == {
        "is there a staff discount in the canteen? email me [EMAIL]": 534,
        MISSED[1]: 533,
        MISSED[2]: 533,
    }
    assert all(item.reason == f"{FELL_BACK} x{item.count}" for item in found.items)


def test_an_empty_or_missing_store_gives_an_empty_inbox(tmp_path: Path):
    missing = tmp_path / "nothing.db"
    found = run(f"sqlite:///{missing}")
    assert (found.items, found.pages, found.rows) == ([], 0, 0)
    assert not missing.exists()  # reading never creates a store
    empty = tracker_store(tmp_path / "empty.db")
    assert run(empty).items == []


# Command line


def inbox_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "desk.inbox_command", *args],
        cwd=ROOT,
        env={**quiet_env(), "TRACKER_DB_URL": url, "DESK_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_line_table(store: str, tmp_path: Path):
    shown = inbox_cli(store, "--since", "0")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "count" in lines[0] and "message" in lines[0]
    assert "Can I bring my pet hamster to the office?" in lines[2]  # most asked first
    assert "2  fell back x2" in lines[2]
    assert "call [PHONE]" in shown.stdout and "07700" not in shown.stdout
    assert "fay@example.com" not in shown.stdout
    assert "4 groups" in shown.stderr


def test_exports_to_csv_and_jsonl(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The command's own main(), in this process (python -m is tested above).
    monkeypatch.setenv("TRACKER_DB_URL", store)
    monkeypatch.setenv("DESK_DATABASE_URL", store)
    assert inbox_module.main(["--since", "0", "--export", str(tmp_path / "inbox.csv")]) == 0
    with open(tmp_path / "inbox.csv", encoding="utf-8") as rows:
        table = list(csv.DictReader(rows))
    assert [row["count"] for row in table] == ["2", "1", "1", "1"]
    assert {row["text"] for row in table} >= {"what's the deal with polygraphs"}
    assert table[0]["topic"] in ("faq/life_wellbeing", "faq/life_x")

    limited = ["--since", "0", "--limit", "1", "--export", str(tmp_path / "inbox.jsonl")]
    assert inbox_module.main(limited) == 0
    (only,) = [json.loads(line) for line in (tmp_path / "inbox.jsonl").read_text().splitlines()]
    assert only["count"] == 2 and only["reasons"] == "fell back x2"


def test_command_line_refuses_bad_arguments_clearly(store: str, tmp_path: Path):
    wrong = inbox_cli(store, "--export", str(tmp_path / "inbox.txt"))
    assert wrong.returncode == 2 and ".csv or a .jsonl" in wrong.stderr
    unreachable = inbox_cli("postgresql://nobody:secret@127.0.0.1:1/none")
    assert unreachable.returncode == 1
    assert "Cannot read the tracker store" in unreachable.stderr
    assert "secret" not in unreachable.stderr
