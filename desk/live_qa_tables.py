"""The Live Q&A tables (desk/live_qa_store.py uses them), and their retention purge.

Apart from the store so that the retention purge (privacy/purge.py, run from the Rasa image)
needs only SQLAlchemy and the desk's table definitions, not the grouping and its imports.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from desk.storage import metadata

# A group's state when it is made (desk/live_qa_store.py has the others).
OPEN = "open"

groups = sa.Table(
    "desk_live_qa_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("media_id", sa.String(255), nullable=False, index=True),
    sa.Column("topic", sa.String(100)),
    sa.Column("state", sa.String(16), nullable=False, default=OPEN),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("media_id", "topic", name="uq_desk_live_qa_groups_topic"),
)
questions = sa.Table(
    "desk_live_qa_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("comment_id", sa.String(255), nullable=False, unique=True),
    sa.Column("media_id", sa.String(255), nullable=False, index=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("desk_live_qa_groups.id"), index=True),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("asker_hash", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(100)),
    sa.Column("abuse", sa.Boolean, nullable=False, default=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("reply_status", sa.String(16)),
    sa.Column("replied_at", sa.Float),
)


def purge_broadcasts(engine: Engine, cutoff: float) -> int:
    """Delete broadcasts whose last question arrived before `cutoff`; how many questions."""
    if not sa.inspect(engine).has_table(questions.name):
        return 0  # the desk's migrations have not run on this database
    with engine.begin() as db:
        old = (
            sa.select(questions.c.media_id)
            .group_by(questions.c.media_id)
            .having(sa.func.max(questions.c.received_at) < cutoff)
        )
        media = [row[0] for row in db.execute(old)]
        if not media:
            return 0
        deleted = db.execute(questions.delete().where(questions.c.media_id.in_(media)))
        db.execute(groups.delete().where(groups.c.media_id.in_(media)))
    return int(deleted.rowcount or 0)
