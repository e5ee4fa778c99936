"""generation runs as background jobs: completion, trigger, where to report, liveness

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generation_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("completed_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("triggered_by", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("chat_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("status_ref", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("worker", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("heartbeat_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("follow_up", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_generation_runs_chat_id_chats"),
            "chats",
            ["chat_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_generation_runs_requested_by_created", ["requested_by", "created_at"]
        )
        batch_op.create_index("ix_generation_runs_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("generation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_generation_runs_status")
        batch_op.drop_index("ix_generation_runs_requested_by_created")
        batch_op.drop_constraint(batch_op.f("fk_generation_runs_chat_id_chats"), type_="foreignkey")
        for column in (
            "follow_up", "heartbeat_at", "worker", "status_ref", "chat_id", "triggered_by",
            "completed_at",
        ):  # fmt: skip
            batch_op.drop_column(column)
