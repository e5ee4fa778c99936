"""question reports, retirement and observed difficulty

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REASONS = ("key", "multi", "unclear", "notmat", "dup", "other")


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("observed_difficulty", sa.Double(), nullable=True))
        batch_op.add_column(
            sa.Column("retired_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "retired_because",
                sa.Enum("reports", "quality", "owner", name="retiredbecause", native_enum=False,
                        length=16),
                nullable=True,
            )
        )  # fmt: skip
    op.create_table(
        "question_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(*_REASONS, name="reportreason", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("told_retired_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"],
            name=op.f("fk_question_reports_question_id_questions"), ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_question_reports_user_id_users"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_reports")),
        sa.UniqueConstraint(
            "question_id", "user_id", name=op.f("uq_question_reports_question_id_user_id")
        ),
    )
    with op.batch_alter_table("question_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_reports_question_id"), ["question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("question_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_reports_question_id"))
    op.drop_table("question_reports")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("retired_because")
        batch_op.drop_column("retired_at")
        batch_op.drop_column("observed_difficulty")
