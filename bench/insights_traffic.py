"""Synthetic traffic for the Insights benchmark, written with PostgreSQL's COPY.

A busy account's day: 2,000 conversations and about 15,000 applicant messages, over Instagram,
the web chat and REST; FAQ topics, off-topic and not-understood messages ("did you mean"
after the latter), vacancy searches (some showing nothing), safety messages, and handoffs with
claim and reply times. Each message is stored as Rasa stores a turn: the user event, the
answer's action and bot event, then action_listen. One applicant in ten comes back on a later
day (a new session of an old sender id). Seeded, so every run writes the same traffic.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import sqlalchemy as sa

from desk.storage import handoffs, messages

CONVERSATIONS_A_DAY = 2_000
MESSAGES_A_DAY = 15_000
CHANNELS = [("instagram", 0.7), ("socketio", 0.2), ("rest", 0.1)]
TOPICS = [f"faq/topic_{index:02d}" for index in range(40)]
FAMILIES = ["technology", "intelligence", "analysis", "languages", "corporate", "any"]
PLACES = ["London", "Greater Manchester", "Cheltenham", "Belfast", "anywhere"]
REASONS = ["asked for a person", "not understood twice", "depends on circumstances"]
COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


@dataclass
class Day:
    events: List[Tuple[Any, ...]] = field(default_factory=list)
    handoffs: List[Dict[str, Any]] = field(default_factory=list)


def _user(sender: str, at: float, channel: str, intent: str, topic: str | None) -> Tuple:
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.93}, "entities": []}
    if topic:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": topic}}}
    body = {"event": "user", "timestamp": at, "text": "synthetic question", "parse_data": parse,
            "input_channel": channel, "message_id": "m", "metadata": {}}  # fmt: skip
    return (sender, "user", at, intent, None, json.dumps(body))


def _action(sender: str, at: float, name: str) -> Tuple:
    body = {"event": "action", "timestamp": at, "name": name, "policy": "RulePolicy"}
    return (sender, "action", at, None, name, json.dumps(body))


def _bot(sender: str, at: float, utter: str) -> Tuple:
    body = {"event": "bot", "timestamp": at, "text": "synthetic answer", "data": {},
            "metadata": {"utter_action": utter}}  # fmt: skip
    return (sender, "bot", at, None, None, json.dumps(body))


def _slot(sender: str, at: float, name: str, value: Any) -> Tuple:
    body = {"event": "slot", "timestamp": at, "name": name, "value": value}
    return (sender, "slot", at, None, None, json.dumps(body))


def _turn(rows: List[Tuple], sender: str, at: float, channel: str, chance: random.Random) -> bool:
    """One applicant message and the assistant's answer; True if it was handed over."""
    roll = chance.random()
    if roll < 0.08:
        rows += [
            _user(sender, at, channel, "out_of_scope", None),
            _action(sender, at, "utter_out_of_scope"),
        ]
        rows.append(_bot(sender, at, "utter_out_of_scope"))
    elif roll < 0.13:
        rows += [
            _user(sender, at, channel, "nlu_fallback", None),
            _action(sender, at, "action_not_understood"),
        ]
        rows.append(_bot(sender, at, "utter_did_you_mean"))
    elif roll < 0.19:
        rows += [
            _user(sender, at, channel, "search_vacancies", None),
            _action(sender, at, "action_search_vacancies"),
        ]
        rows.append(_bot(sender, at, "utter_none"))
        rows.append(_slot(sender, at, "job_family", chance.choice(FAMILIES)))
        rows.append(_slot(sender, at, "location", chance.choice(PLACES)))
        rows.append(_slot(sender, at, "vacancies_shown", 0 if chance.random() < 0.3 else 3))
    elif roll < 0.1925:
        rows += [
            _user(sender, at, channel, "report_threat", None),
            _action(sender, at, "utter_report_threat"),
        ]
        rows.append(_bot(sender, at, "utter_report_threat"))
    elif roll < 0.1975:
        rows += [_user(sender, at, channel, "request_human", None)]
        rows += [
            _action(sender, at, "action_handoff_to_recruiter"),
            _bot(sender, at, "utter_handoff_confirm"),
        ]
        rows.append(
            (sender, "pause", at, None, None, json.dumps({"event": "pause", "timestamp": at}))
        )
        return True
    else:
        topic = TOPICS[min(len(TOPICS) - 1, int(chance.paretovariate(1.2)) - 1)]
        rows += [_user(sender, at, channel, "faq", topic), _action(sender, at, "utter_faq")]
        rows.append(_bot(sender, at, "utter_faq"))
    rows.append(_action(sender, at, "action_listen"))
    return False


def day_of_traffic(day: date, seed: int, returning: List[str]) -> Day:
    """One day's conversations; `returning` holds earlier senders, some of whom come back."""
    chance = random.Random(seed)
    made = Day()
    start = datetime.combine(day, datetime.min.time(), timezone.utc).timestamp()
    mean_messages = MESSAGES_A_DAY / CONVERSATIONS_A_DAY
    names, weights = zip(*CHANNELS, strict=True)
    for index in range(CONVERSATIONS_A_DAY):
        if returning and chance.random() < 0.1:
            sender = chance.choice(returning)
        else:
            sender = f"bench-{day.isoformat()}-{index}"
            returning.append(sender)
        channel = chance.choices(names, weights)[0]
        at = start + 60 + chance.random() * 86000
        rows = made.events
        rows += [_action(sender, at, "action_session_start")]
        rows += [
            (sender, "session_started", at, None, None, json.dumps({"event": "session_started"}))
        ]
        rows += [_action(sender, at, "action_listen")]
        count = max(1, min(30, round(chance.expovariate(1 / mean_messages))))
        for turn in range(count):
            moment = at + 20 * (turn + 1)
            if _turn(rows, sender, moment, channel, chance):
                made.handoffs.append(_handoff(sender, channel, moment, chance))
                break
    return made


def _handoff(sender: str, channel: str, at: float, chance: random.Random) -> Dict[str, Any]:
    claim = chance.expovariate(1 / 900)
    return {
        "sender_id": sender,
        "channel": channel,
        "topic": "general",
        "reason": chance.choice(REASONS),
        "status": "closed",
        "preview": "",
        "transcript": "[]",
        "created_at": at,
        "claimed_by": "bench",
        "claimed_at": at + claim,
        "closed_at": at + claim + 600,
        "reply_at": at + claim + chance.expovariate(1 / 300),
    }


def copy_events(engine: sa.engine.Engine, rows: List[Tuple]) -> None:
    """COPY the rows into Rasa's `events` table (ids from its sequence)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN WITH CSV", buffer)
        raw.commit()
    finally:
        raw.close()


def insert_handoffs(engine: sa.engine.Engine, found: List[Dict[str, Any]]) -> None:
    if not found:
        return
    with engine.begin() as db:
        for item in found:
            values = {key: value for key, value in item.items() if key != "reply_at"}
            handoff_id = db.execute(handoffs.insert().values(**values)).inserted_primary_key[0]
            db.execute(
                messages.insert().values(
                    handoff_id=handoff_id, author="bench", kind="reply", text="synthetic reply",
                    created_at=item["reply_at"], delivery="delivered",
                )
            )  # fmt: skip


def days_back(today: date, count: int) -> List[date]:
    return [today - timedelta(days=offset) for offset in range(count, 0, -1)]
