"""Sign-in throttling by source address and account, so an attacker cannot lock a recruiter
out everywhere (desk/sign_in_throttle.py).

Revision ID: 0003_sign_in_throttle
Revises: 0002_training
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_sign_in_throttle"
down_revision = "0002_training"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_sign_in_throttle",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_started_at", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float),
        sa.Column("signed_in_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("desk_sign_in_throttle")
