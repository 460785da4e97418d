"""Handoffs, recruiters, sessions, tokens and the audit log, in the tracker store's database.

SQLAlchemy Core rather than the ORM: every state change is one explicit statement, and a
claim is a conditional UPDATE so two recruiters claiming at once cannot both win.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "desk_alembic_version"
WAITING, CLAIMED, CLOSED = "waiting", "claimed", "closed"
STATUSES = (WAITING, CLAIMED, CLOSED)

metadata = sa.MetaData()

users = sa.Table(
    "desk_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    # recruiter | trainer (desk/training_store.py ROLES); trainers also see the Training page.
    sa.Column("role", sa.String(16), nullable=False, default="recruiter"),
)
api_tokens = sa.Table(
    "desk_api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
sessions = sa.Table(
    "desk_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
handoffs = sa.Table(
    "desk_handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("reason", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("preview", sa.Text, nullable=False, default=""),
    sa.Column("transcript", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("closed_at", sa.Float),
    sa.Column("outcome", sa.String(16)),
    sa.Column("holding_sent_at", sa.Float),
)
messages = sa.Table(
    "desk_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("desk_handoffs.id"), nullable=False),
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # reply | note
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivery", sa.String(16), nullable=False),  # pending | delivered | failed | n/a
    sa.Column("error", sa.Text),
)
audit = sa.Table(
    "desk_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("handoff_id", sa.Integer),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)
# The trainers' tables (used by desk/training_store.py): decisions on inbox messages, keyed
# by the hash of the normalised redacted text, and recruiters' flags, which belong to their
# handoff (so erasing or purging a handoff removes them too).
training_decisions = sa.Table(
    "desk_training_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("topic", sa.String(100)),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)
training_flags = sa.Table(
    "desk_training_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("message_at", sa.Float, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("desk_handoffs.id")),
    sa.Column("flagged_by", sa.String(100), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.UniqueConstraint("sender_id", "message_at", name="uq_desk_training_flags_message"),
)

# Failed sign-ins counted per source address, per address and account name, and whether an
# address has signed into an account (desk/sign_in_throttle.py). Keys are SHA-256 hashes:
# the table never holds an address.
sign_in_throttle = sa.Table(
    "desk_sign_in_throttle",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("window_started_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float),
    sa.Column("signed_in_at", sa.Float),
)


def digest(secret: str) -> str:
    """Tokens are stored hashed, so a copy of the database does not hand out sessions."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # The Rasa server writes the same file; wait for its locks instead of failing.
        return sa.create_engine(
            url, future=True, connect_args={"timeout": 30, "check_same_thread": False}
        )
    # A database that does not answer fails a connection in 5 s instead of hanging an action
    # (or a desk request) until TCP gives up.
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return sa.create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


def migrate(url: str) -> None:
    """Bring the desk's tables up to date (Alembic); a no-op when they already are."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@dataclass
class NewHandoff:
    sender_id: str
    channel: str
    topic: str
    reason: str
    preview: str
    transcript: List[Dict[str, Any]]
    created_at: float


class ClaimConflict(Exception):
    """The handoff is not in a state that allows the action; the message says why."""


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    # Handoffs

    def create_handoff(self, new: NewHandoff) -> int:
        with self.engine.begin() as db:
            result = db.execute(
                handoffs.insert().values(
                    sender_id=new.sender_id,
                    channel=new.channel,
                    topic=new.topic,
                    reason=new.reason,
                    status=WAITING,
                    preview=new.preview,
                    transcript=json.dumps(new.transcript),
                    created_at=new.created_at,
                )
            )
            handoff_id = int(result.inserted_primary_key[0])
            _audit(db, new.created_at, "assistant", "created", handoff_id, new.reason)
        return handoff_id

    def list_handoffs(self, status: str) -> List[Dict[str, Any]]:
        order = handoffs.c.created_at.asc() if status == WAITING else handoffs.c.id.desc()
        with self.engine.connect() as db:
            rows = db.execute(handoffs.select().where(handoffs.c.status == status).order_by(order))
            return [_handoff(row) for row in rows.mappings()]

    def get_handoff(self, handoff_id: int) -> Dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(handoffs.select().where(handoffs.c.id == handoff_id)).mappings()
            found = row.first()
            return _handoff(found) if found else None

    def claim(self, handoff_id: int, recruiter: str, now: float) -> bool:
        """Exactly one of several simultaneous claims succeeds."""
        with self.engine.begin() as db:
            result = db.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, handoffs.c.status == WAITING)
                .values(status=CLAIMED, claimed_by=recruiter, claimed_at=now)
            )
            won = result.rowcount == 1
            if won:
                _audit(db, now, recruiter, "claimed", handoff_id)
        return won

    def finish(self, handoff_id: int, recruiter: str, outcome: str, now: float) -> bool:
        """Release (back to the assistant) or close; only by the recruiter who claimed it."""
        with self.engine.begin() as db:
            result = db.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    handoffs.c.status == CLAIMED,
                    handoffs.c.claimed_by == recruiter,
                )
                .values(status=CLOSED, closed_at=now, outcome=outcome)
            )
            done = result.rowcount == 1
            if done:
                _audit(db, now, recruiter, outcome, handoff_id)
        return done

    def mark_holding_sent(self, handoff_id: int, now: float | None) -> bool:
        """Set (or with None, clear) the holding-message mark; True if this call set it."""
        condition = (
            handoffs.c.holding_sent_at.is_(None)
            if now is not None
            else handoffs.c.holding_sent_at.isnot(None)
        )
        with self.engine.begin() as db:
            result = db.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, condition)
                .values(holding_sent_at=now)
            )
            return result.rowcount == 1

    # Messages and notes

    def add_message(self, handoff_id: int, author: str, kind: str, text: str, now: float) -> int:
        with self.engine.begin() as db:
            result = db.execute(
                messages.insert().values(
                    handoff_id=handoff_id,
                    author=author,
                    kind=kind,
                    text=text,
                    created_at=now,
                    delivery="pending" if kind == "reply" else "n/a",
                )
            )
            message_id = int(result.inserted_primary_key[0])
            action = "replied" if kind == "reply" else "noted"
            _audit(db, now, author, action, handoff_id, f"message {message_id}")
        return message_id

    def set_delivery(self, message_id: int, delivery: str, error: str | None = None) -> None:
        with self.engine.begin() as db:
            db.execute(
                messages.update()
                .where(messages.c.id == message_id)
                .values(delivery=delivery, error=error)
            )

    def messages_for(self, handoff_id: int) -> List[Dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(
                messages.select().where(messages.c.handoff_id == handoff_id).order_by(messages.c.id)
            )
            return [dict(row) for row in rows.mappings()]

    # Audit

    def record(
        self, actor: str, action: str, handoff_id: int | None, detail: str, now: float
    ) -> None:
        with self.engine.begin() as db:
            _audit(db, now, actor, action, handoff_id, detail)

    def erased_at(self, handoff_id: int) -> float | None:
        """When the applicant had this handoff erased (the audit log keeps that, no more)."""
        with self.engine.connect() as db:
            found = db.execute(
                sa.select(audit.c.at).where(
                    audit.c.handoff_id == handoff_id, audit.c.action == "erased"
                )
            ).scalar()
            return float(found) if found is not None else None

    def audit_log(self, limit: int = 500) -> List[Dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(audit.select().order_by(audit.c.id.desc()).limit(limit))
            return [dict(row) for row in rows.mappings()]

    # Recruiters, sessions and tokens

    def add_user(self, name: str, password_hash: str, now: float, role: str = "recruiter") -> None:
        with self.engine.begin() as db:
            db.execute(
                users.insert().values(
                    name=name,
                    password_hash=password_hash,
                    failed_logins=0,
                    created_at=now,
                    role=role,
                )
            )
            _audit(db, now, "cli", "user created", None, f"{name} ({role})")

    def set_password(self, name: str, password_hash: str, now: float) -> bool:
        with self.engine.begin() as db:
            result = db.execute(
                users.update()
                .where(users.c.name == name)
                .values(password_hash=password_hash, failed_logins=0, locked_until=None)
            )
            if result.rowcount:
                _audit(db, now, "cli", "password set", None, name)
            return bool(result.rowcount)

    def user(self, name: str) -> Dict[str, Any] | None:
        with self.engine.connect() as db:
            row = db.execute(users.select().where(users.c.name == name)).mappings().first()
            return dict(row) if row else None

    def create_session(self, user_id: int, now: float, expires_at: float) -> tuple[str, str]:
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as db:
            db.execute(
                sessions.insert().values(
                    user_id=user_id,
                    token_hash=digest(secret),
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return secret, csrf

    def session(self, secret: str, now: float) -> Dict[str, Any] | None:
        query = (
            sa.select(sessions.c.csrf_token, users.c.name, users.c.id, users.c.role)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == digest(secret), sessions.c.expires_at > now)
        )
        with self.engine.connect() as db:
            row = db.execute(query).mappings().first()
            return dict(row) if row else None

    def end_session(self, secret: str) -> None:
        with self.engine.begin() as db:
            db.execute(sessions.delete().where(sessions.c.token_hash == digest(secret)))

    def create_token(self, name: str, now: float, expires_at: float) -> str:
        user = self.user(name)
        if user is None:
            raise KeyError(name)
        secret = secrets.token_urlsafe(32)
        with self.engine.begin() as db:
            db.execute(
                api_tokens.insert().values(
                    user_id=user["id"],
                    token_hash=digest(secret),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            _audit(db, now, "cli", "token created", None, name)
        return secret

    def token_user(self, secret: str, now: float) -> str | None:
        query = (
            sa.select(users.c.name)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == digest(secret), api_tokens.c.expires_at > now)
        )
        with self.engine.connect() as db:
            return db.execute(query).scalar()


def _audit(
    db: sa.engine.Connection,
    at: float,
    actor: str,
    action: str,
    handoff_id: int | None,
    detail: str = "",
) -> None:
    db.execute(
        audit.insert().values(
            at=at, actor=actor, action=action, handoff_id=handoff_id, detail=detail
        )
    )


def _handoff(row: Any) -> Dict[str, Any]:
    found = dict(row)
    found["transcript"] = json.loads(found["transcript"] or "[]")
    return found


def now_s() -> float:
    return time.time()
