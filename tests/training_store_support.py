"""Synthetic tracker stores for the training inbox tests: Rasa's own `events` table, filled
with rows shaped as Rasa 3.6's SQLTrackerStore writes them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, Iterable, List

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from scripts.stack import ROOT

Row = Dict[str, Any]


def user(
    sender: str,
    text: str,
    intent: str,
    confidence: float,
    at: float,
    topic: str | None = None,
    topic_confidence: float = 0.9,
    ranking: List[Dict[str, Any]] | None = None,
) -> Row:
    parse: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": [],
    }
    if topic:
        parse["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": topic,
                    "confidence": topic_confidence,
                    "utter_action": f"utter_{topic}",
                },
                "ranking": [],
            },
        }
    data = {"event": "user", "timestamp": at, "text": text, "parse_data": parse}
    return {
        "sender_id": sender,
        "type_name": "user",
        "timestamp": at,
        "intent_name": intent,
        "action_name": None,
        "data": json.dumps(data),
    }


def fallback(sender: str, text: str, at: float, topic: str, confidence: float) -> Row:
    """A message the FallbackClassifier caught: nlu_fallback first, then the FAQ guess, whose
    topic the response selector still picked."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "faq", "confidence": confidence},
    ]
    return user(sender, text, "nlu_fallback", 0.7, at, topic, confidence, ranking)


def action(sender: str, name: str, at: float) -> Row:
    data = {"event": "action", "timestamp": at, "name": name}
    return {
        "sender_id": sender,
        "type_name": "action",
        "timestamp": at,
        "intent_name": None,
        "action_name": name,
        "data": json.dumps(data),
    }


def bot(sender: str, text: str, at: float) -> Row:
    data = {"event": "bot", "timestamp": at, "text": text}
    return {
        "sender_id": sender,
        "type_name": "bot",
        "timestamp": at,
        "intent_name": None,
        "action_name": None,
        "data": json.dumps(data),
    }


def turn(sender: str, message: Row, *actions: str) -> List[Row]:
    """A message and the assistant's actions after it, ending with action_listen."""
    at = float(message["timestamp"])
    rows = [message]
    for step, name in enumerate((*actions, "action_listen"), 1):
        rows.append(action(sender, name, at + step / 100))
        if name.startswith("utter_") or name == "action_not_understood":
            rows.append(bot(sender, f"reply from {name}", at + step / 100))
    return rows


def tracker_store(path: Path, rows: Iterable[Row] = (), batch: int = 10_000) -> str:
    """A SQLite database with Rasa's events table holding `rows`; its SQLAlchemy URL."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url, future=True)
    table = SQLTrackerStore.SQLEvent.__table__
    table.create(engine, checkfirst=True)
    pending: List[Row] = []
    with engine.begin() as db:
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                db.execute(table.insert(), pending)
                pending = []
        if pending:
            db.execute(table.insert(), pending)
    engine.dispose()
    return url


def content_copy(target: Path) -> Path:
    """A copy of the project's content for the labelling tool to write to; its data/ folder."""
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "tests" / "nlu", target / "tests" / "nlu")
    shutil.copytree(ROOT / "tests" / "stories", target / "tests" / "stories")
    shutil.copy(ROOT / "domain.yml", target / "domain.yml")
    return target / "data"
