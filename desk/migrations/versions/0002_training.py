"""Trainers: a role for desk users, trainers' decisions on inbox messages, recruiters' flags.

Revision ID: 0002_training
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_training"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everyone who already has an account is a recruiter.
    with op.batch_alter_table("desk_users") as batch:
        batch.add_column(
            sa.Column("role", sa.String(16), nullable=False, server_default="recruiter")
        )
    op.create_table(
        "desk_training_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(100)),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "desk_training_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("message_at", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("desk_handoffs.id")),
        sa.Column("flagged_by", sa.String(100), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("sender_id", "message_at", name="uq_desk_training_flags_message"),
    )


def downgrade() -> None:
    op.drop_table("desk_training_flags")
    op.drop_table("desk_training_decisions")
    with op.batch_alter_table("desk_users") as batch:
        batch.drop_column("role")
