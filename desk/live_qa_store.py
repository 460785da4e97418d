"""Live Q&A questions and their groups, in the desk's database.

Only what the board needs is kept: the redacted text (never a username), a hash of the
channel's opaque pseudonym (to count distinct askers and send one private reply each), the
comment id (whom a private reply answers) and each reply's outcome. Abusive comments are
counted, with no text. Placing a question in a group (desk/live_qa_grouping.py) and storing
it is one transaction under a lock, so questions arriving together cannot split a group.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from desk.live_qa_grouping import BroadcastIndex
from desk.live_qa_tables import OPEN, groups, purge_broadcasts, questions
from desk.storage import audit, digest
from training.grouping import normalise

ANSWERED, HIDDEN = "answered", "hidden"
STATES = (OPEN, ANSWERED, HIDDEN)
SENDING = "sending"
# Outcomes after which the desk never asks again for that comment (or that commenter in
# that group); the others (over_cap, disabled, error) may be tried again later.
FINAL_REPLIES = ("sent", "duplicate", "expired", "not_live")
REPLY_STATUSES = (*FINAL_REPLIES, "over_cap", "disabled", "error")
EXAMPLES = 3


@dataclass(frozen=True)
class NewQuestion:
    comment_id: str
    media_id: str
    text: str  # already redacted
    commenter: str
    created_time: int
    topic: str | None
    abuse: bool


@dataclass(frozen=True)
class Stored:
    question_id: int
    group_id: int | None
    duplicate: bool


class LiveQaStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._indexes: Dict[str, BroadcastIndex] = {}

    # Intake

    def add(self, new: NewQuestion, now: float) -> Stored:
        """Store a question in its group; a comment id seen before is a duplicate."""
        return self.add_many([(new, now)])[0]

    def add_many(self, batch: Sequence[Tuple[NewQuestion, float]]) -> List[Stored]:
        """Store questions that arrived together in one transaction (one commit, not one each:
        a burst of live comments waits for the disk once per batch)."""
        with self._lock:
            try:
                return self._add_batch(batch)
            except IntegrityError:
                # Another replica stored one of these comments, or made a topic's group:
                # learn what it did, then store them one at a time.
                self._indexes.clear()
            stored = []
            for item in batch:
                try:
                    stored.extend(self._add_batch([item]))
                except IntegrityError:
                    self._indexes.clear()
                    stored.extend(self._add_batch([item]))
            return stored

    def _add_batch(self, batch: Sequence[Tuple[NewQuestion, float]]) -> List[Stored]:
        known = self._questions_of([new.comment_id for new, _ in batch])
        stored = []
        try:
            with self.engine.begin() as db:
                for new, now in batch:
                    if new.comment_id in known:
                        stored.append(Stored(*known[new.comment_id], duplicate=True))
                        continue
                    index = self._index(db, new.media_id)
                    group_id = None if new.abuse else _group_for(db, index, new, now)
                    question_id = _insert_question(db, new, group_id, now)
                    if group_id is not None:
                        topic = new.topic or index.topic_of.get(group_id)
                        index.learn(group_id, new.text, topic, question_id)
                    known[new.comment_id] = (question_id, group_id)
                    stored.append(Stored(question_id, group_id, duplicate=False))
        except Exception:
            self._indexes.clear()  # they learnt questions that were not stored
            raise
        return stored

    def _questions_of(self, comment_ids: List[str]) -> Dict[str, Tuple[int, int | None]]:
        query = sa.select(questions.c.comment_id, questions.c.id, questions.c.group_id).where(
            questions.c.comment_id.in_(comment_ids)
        )
        with self.engine.connect() as db:
            return {row[0]: (int(row[1]), row[2]) for row in db.execute(query)}

    def _index(self, db: Connection, media_id: str) -> BroadcastIndex:
        """This broadcast's index, brought up to date with questions other replicas stored."""
        index = self._indexes.setdefault(media_id, BroadcastIndex())
        query = (
            sa.select(questions.c.id, questions.c.group_id, questions.c.text, groups.c.topic)
            .join(groups, groups.c.id == questions.c.group_id)
            .where(questions.c.media_id == media_id, questions.c.id > index.last_question_id)
            .order_by(questions.c.id)
        )
        for question_id, group_id, text, topic in db.execute(query):
            index.learn(group_id, text, topic, question_id)
        return index

    # The board

    def broadcasts(self, limit: int = 50) -> List[Dict[str, Any]]:
        """Media with questions, latest first."""
        query = (
            sa.select(
                questions.c.media_id,
                sa.func.count().label("questions"),
                sa.func.min(questions.c.received_at).label("first_at"),
                sa.func.max(questions.c.received_at).label("last_at"),
            )
            .group_by(questions.c.media_id)
            .order_by(sa.func.max(questions.c.received_at).desc())
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(query).mappings()]

    def board(self, media_id: str) -> Dict[str, Any]:
        """The broadcast's groups, most people first, with counts, examples and replies."""
        with self.engine.connect() as db:
            found = db.execute(groups.select().where(groups.c.media_id == media_id)).mappings()
            by_id = {row["id"]: _Tally(dict(row)) for row in found}
            rows = db.execute(
                sa.select(
                    questions.c.id,
                    questions.c.group_id,
                    questions.c.text,
                    questions.c.asker_hash,
                    questions.c.reply_status,
                    questions.c.abuse,
                ).where(questions.c.media_id == media_id)
            )
            abuse, latest, askers = 0, 0, set()
            for question_id, group_id, text, asker, reply, abusive in rows:
                latest = max(latest, question_id)
                if abusive or group_id is None:
                    abuse += 1
                    continue
                askers.add(asker)
                by_id[group_id].add(text, asker, reply)
        shown = sorted((tally.summary() for tally in by_id.values()), key=_most_asked)
        return {
            "media_id": media_id,
            "groups": shown,
            "questions": sum(group["questions"] for group in shown),
            "people": len(askers),
            "abuse_hidden": abuse,
            "latest_question_id": latest,
        }

    def group(self, group_id: int) -> Dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(groups.select().where(groups.c.id == group_id)).mappings().first()
        return dict(row) if row else None

    # A host's actions, each with its audit entry

    def set_state(self, group_id: int, state: str, actor: str, now: float) -> bool:
        with self.engine.begin() as db:
            done = db.execute(
                groups.update().where(groups.c.id == group_id).values(state=state)
            ).rowcount
            if done:
                action = {OPEN: "reopened", ANSWERED: "answered", HIDDEN: "hidden"}[state]
                _audit(db, now, actor, f"live q&a {action}", _where(db, group_id))
        return bool(done)

    def claim_replies(self, group_id: int, now: float) -> List[Tuple[int, str]]:
        """(question id, comment id) to reply to: each asker's latest comment in the group,
        for askers who have no reply yet; marked as being sent, so no second click (or
        replica) sends them again."""
        with self._lock, self.engine.begin() as db:
            rows = db.execute(
                sa.select(
                    questions.c.id,
                    questions.c.comment_id,
                    questions.c.asker_hash,
                    questions.c.reply_status,
                )
                .where(questions.c.group_id == group_id, questions.c.abuse.is_(False))
                .order_by(questions.c.id.desc())
            ).all()
            done = {row[2] for row in rows if row[3] in (*FINAL_REPLIES, SENDING)}
            chosen: Dict[str, Tuple[int, str]] = {}
            for question_id, comment_id, asker, _ in rows:
                if asker not in done and asker not in chosen:
                    chosen[asker] = (question_id, comment_id)
            claimed = []
            for question_id, comment_id in chosen.values():
                updated = db.execute(
                    questions.update()
                    .where(
                        questions.c.id == question_id,
                        sa.or_(
                            questions.c.reply_status.is_(None),
                            questions.c.reply_status.notin_([*FINAL_REPLIES, SENDING]),
                        ),
                    )
                    .values(reply_status=SENDING, replied_at=now)
                ).rowcount
                if updated:
                    claimed.append((question_id, comment_id))
        return claimed

    def finish_replies(
        self, group_id: int, outcomes: Dict[int, str], actor: str, now: float
    ) -> Counter:
        """Record each claimed reply's outcome (question id -> status) and audit the send."""
        counts: Counter = Counter(outcomes.values())
        with self.engine.begin() as db:
            for question_id, status in outcomes.items():
                db.execute(
                    questions.update()
                    .where(questions.c.id == question_id)
                    .values(reply_status=status, replied_at=now)
                )
            what = ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "nobody new"
            detail = f"{_where(db, group_id)}: {what}"
            _audit(db, now, actor, "live q&a sent privately", detail)
        return counts

    def record_export(self, media_id: str, actor: str, now: float) -> None:
        with self.engine.begin() as db:
            _audit(db, now, actor, "live q&a exported", f"media {media_id}")

    def purge_before(self, cutoff: float) -> int:
        """Forget broadcasts idle since before `cutoff` (desk/live_qa_tables.py)."""
        deleted = purge_broadcasts(self.engine, cutoff)
        self._indexes.clear()
        return deleted


class _Tally:
    """One group's counts as the board reads them."""

    def __init__(self, row: Dict[str, Any]) -> None:
        self.row = row
        self.askers: set = set()
        self.questions = 0
        self.wordings: Counter = Counter()
        self.first_wording: Dict[str, str] = {}
        self.replies: Counter = Counter()

    def add(self, text: str, asker: str, reply: str | None) -> None:
        self.questions += 1
        self.askers.add(asker)
        wording = normalise(text)
        self.wordings[wording] += 1
        self.first_wording.setdefault(wording, text)
        if reply:
            self.replies[reply] += 1

    def summary(self) -> Dict[str, Any]:
        examples = [self.first_wording[w] for w, _ in self.wordings.most_common(EXAMPLES)]
        return {
            "id": self.row["id"],
            "topic": self.row["topic"],
            "state": self.row["state"],
            "people": len(self.askers),
            "questions": self.questions,
            "examples": examples,
            "replies": dict(self.replies),
        }


def _most_asked(group: Dict[str, Any]) -> Tuple[int, int, int]:
    return (-group["people"], -group["questions"], group["id"])


def _group_for(db: Connection, index: BroadcastIndex, new: NewQuestion, now: float) -> int:
    placed = index.place(new.text, new.topic)
    if placed.group_id is None:
        result = db.execute(
            groups.insert().values(
                media_id=new.media_id, topic=new.topic or None, state=OPEN, created_at=now
            )
        )
        return int(result.inserted_primary_key[0])
    if placed.adopt_topic:
        db.execute(
            groups.update()
            .where(groups.c.id == placed.group_id, groups.c.topic.is_(None))
            .values(topic=new.topic)
        )
    return placed.group_id


def _insert_question(db: Connection, new: NewQuestion, group_id: int | None, now: float) -> int:
    result = db.execute(
        questions.insert().values(
            comment_id=new.comment_id,
            media_id=new.media_id,
            group_id=group_id,
            text="" if new.abuse else new.text,
            asker_hash=digest(new.commenter),
            topic=new.topic,
            abuse=new.abuse,
            created_time=new.created_time,
            received_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def _audit(db: Connection, now: float, actor: str, action: str, detail: str) -> None:
    db.execute(
        audit.insert().values(at=now, actor=actor, action=action, handoff_id=None, detail=detail)
    )


def _where(db: Connection, group_id: int) -> str:
    row = db.execute(
        sa.select(groups.c.media_id, groups.c.topic).where(groups.c.id == group_id)
    ).first()
    if row is None:
        return f"group {group_id}"
    topic = f" ({row[1]})" if row[1] else ""
    return f"group {group_id}{topic} on media {row[0]}"


def as_rows(board: Dict[str, Any], titles: Dict[str, str]) -> Iterable[List[Any]]:
    """The board as CSV rows: groups and counts, and no usernames, pseudonyms or comment ids."""
    yield ["media_id", "group", "title", "topic", "people", "questions", "state",
           "example question", "private replies sent"]  # fmt: skip
    for rank, group in enumerate(board["groups"], start=1):
        topic = group["topic"] or ""
        example = group["examples"][0] if group["examples"] else ""
        yield [board["media_id"], rank, titles.get(topic, topic), topic, group["people"],
               group["questions"], group["state"], example,
               group["replies"].get("sent", 0)]  # fmt: skip
    yield [board["media_id"], "hidden as abuse", "", "", "", board["abuse_hidden"], "", "", ""]
