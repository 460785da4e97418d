"""Live Q&A: questions from live comments and the groups the board shows (desk/live_qa_store.py).

Revision ID: 0004_live_qa
Revises: 0003_sign_in_throttle
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_live_qa"
down_revision = "0003_sign_in_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_live_qa_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("media_id", sa.String(255), nullable=False, index=True),
        sa.Column("topic", sa.String(100)),
        sa.Column("state", sa.String(16), nullable=False, server_default="open"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("media_id", "topic", name="uq_desk_live_qa_groups_topic"),
    )
    op.create_table(
        "desk_live_qa_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("comment_id", sa.String(255), nullable=False, unique=True),
        sa.Column("media_id", sa.String(255), nullable=False, index=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("desk_live_qa_groups.id"), index=True),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("asker_hash", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(100)),
        sa.Column("abuse", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("reply_status", sa.String(16)),
        sa.Column("replied_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("desk_live_qa_questions")
    op.drop_table("desk_live_qa_groups")
