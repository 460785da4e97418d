"""Hand-made tracker store events and desk handoffs for the Insights tests.

Events are written into Rasa's own `events` table (SQLTrackerStore.SQLEvent's schema) as Rasa
stores them, so the roll-up reads exactly what it reads in production. Every applicant
message carries SECRET_TEXT and every sender id SECRET_SENDER, so a test can check that
neither ever reaches a figure, a page or an export.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from desk.storage import NewHandoff, Store

SECRET_TEXT = "my passport number is Q1234567"
SECRET_SENDER = "sender-9f8e7d"
Step = Tuple[Any, ...]
_ids = itertools.count(1)


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def create_events_table(engine: sa.engine.Engine) -> None:
    SQLTrackerStore.SQLEvent.__table__.create(engine, checkfirst=True)


@dataclass
class Conversation:
    """One applicant's session: steps are ("faq", topic), ("intent", name), ("handoff",),
    ("search", family, place, shown), ("did_you_mean",)."""

    sender: str
    channel: str
    start: float
    steps: Sequence[Step]
    rows: List[Dict[str, Any]] = field(default_factory=list)


def _row(sender: str, kind: str, at: float, body: Dict[str, Any], **columns: Any) -> Dict[str, Any]:
    return {
        "sender_id": sender,
        "type_name": kind,
        "timestamp": at,
        "intent_name": columns.get("intent_name"),
        "action_name": columns.get("action_name"),
        "data": json.dumps({"event": kind, "timestamp": at, **body}),
    }


def user(sender: str, at: float, channel: str, intent: str, topic: str | None = None) -> Dict:
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "text": SECRET_TEXT}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{topic}"}}}
    body = {
        "text": SECRET_TEXT,
        "parse_data": parse,
        "input_channel": channel,
        "message_id": f"m{next(_ids)}",
        "metadata": {},
    }
    return _row(sender, "user", at, body, intent_name=intent)


def action(sender: str, at: float, name: str) -> Dict:
    return _row(sender, "action", at, {"name": name}, action_name=name)


def bot(sender: str, at: float, utter_action: str = "utter_faq") -> Dict:
    body = {"text": "an answer", "data": {}, "metadata": {"utter_action": utter_action}}
    return _row(sender, "bot", at, body)


def slot(sender: str, at: float, name: str, value: Any) -> Dict:
    return _row(sender, "slot", at, {"name": name, "value": value})


def session_start(sender: str, at: float) -> List[Dict]:
    return [
        action(sender, at, "action_session_start"),
        _row(sender, "session_started", at, {}),
        action(sender, at, "action_listen"),
    ]


def steps_rows(sender: str, channel: str, at: float, steps: Sequence[Step]) -> List[Dict]:
    rows: List[Dict] = []
    for index, step in enumerate(steps):
        moment = at + 10 * (index + 1)
        kind = step[0]
        if kind == "faq":
            rows += [user(sender, moment, channel, "faq", step[1]), bot(sender, moment)]
        elif kind == "intent":
            rows += [user(sender, moment, channel, step[1]), bot(sender, moment)]
        elif kind == "did_you_mean":
            rows.append(bot(sender, moment, "utter_did_you_mean"))
        elif kind == "handoff":
            rows += [action(sender, moment, "action_handoff_to_recruiter"), bot(sender, moment)]
            rows.append(_row(sender, "pause", moment, {}))
        elif kind == "search":
            _, family, place, shown = step
            rows.append(user(sender, moment, channel, "search_vacancies"))
            rows.append(action(sender, moment, "action_search_vacancies"))
            rows.append(bot(sender, moment, "utter_none"))
            rows += [slot(sender, moment, "job_family", family)]
            rows += [slot(sender, moment, "location", place)]
            rows += [slot(sender, moment, "vacancies_shown", shown)]
        rows.append(action(sender, moment, "action_listen"))
    return rows


def write(engine: sa.engine.Engine, rows: List[Dict]) -> None:
    if rows:
        with engine.begin() as db:
            db.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)


def add_conversations(engine: sa.engine.Engine, conversations: Sequence[Conversation]) -> None:
    rows: List[Dict] = []
    for item in conversations:
        rows += session_start(item.sender, item.start)
        rows += steps_rows(item.sender, item.channel, item.start, item.steps)
    write(engine, rows)


def add_handoff(
    store: Store,
    sender: str,
    created: float,
    reason: str,
    claim_after_min: float | None,
    reply_after_min: float | None,
    channel: str = "instagram",
) -> int:
    handoff_id = store.create_handoff(
        NewHandoff(
            sender_id=sender,
            channel=channel,
            topic="general",
            reason=reason,
            preview=SECRET_TEXT,
            transcript=[{"who": "applicant", "text": SECRET_TEXT, "at": created}],
            created_at=created,
        )
    )
    if claim_after_min is not None:
        assert store.claim(handoff_id, "rita", created + claim_after_min * 60)
    if reply_after_min is not None:
        message = store.add_message(
            handoff_id, "rita", "reply", SECRET_TEXT, created + reply_after_min * 60
        )
        store.set_delivery(message, "delivered")
    return handoff_id


def instagram(index: int) -> str:
    return f"{SECRET_SENDER}-ig{index}"


def hand_counted(noon1: float, noon2: float) -> List[Conversation]:
    """The conversations tests/test_insights.py counts by hand (see its docstring)."""
    found: List[Conversation] = []
    for index in range(5):
        steps: List[Step] = [("faq", "process_vetting"), ("intent", "out_of_scope")]
        if index == 0:
            steps.append(("faq", "eligibility_age"))
        if index in (1, 2):
            steps += [("intent", "request_human"), ("handoff",)]
        found.append(Conversation(instagram(index), "instagram", noon1 + index * 60, steps))
    found.append(
        Conversation(
            f"{SECRET_SENDER}-w0",
            "socketio",
            noon1,
            [("faq", "process_vetting"), ("search", "technology", "London", 0)],
        )
    )
    found.append(
        Conversation(
            f"{SECRET_SENDER}-w1",
            "socketio",
            noon1,
            [("faq", "process_vetting"), ("search", "any", "anywhere", 3)],
        )
    )
    for index in range(5):
        steps = [
            ("faq", "process_vetting"),
            ("faq", "pay_salary"),
            ("intent", "nlu_fallback"),
            ("did_you_mean",),
        ]
        if index == 0:
            steps.append(("intent", "distress"))
        found.append(Conversation(f"{SECRET_SENDER}-d{index}", "socketio", noon2, steps))
    return found
