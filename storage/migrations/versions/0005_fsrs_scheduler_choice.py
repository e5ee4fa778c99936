"""FSRS as a scheduler choice: the student's scheduler, retention and fitted parameters,
the cards' FSRS memory state, and what each attempt's scheduler predicted

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCHEDULERS = ("sm2", "fsrs")


def _scheduler_kind() -> sa.Enum:
    return sa.Enum(*_SCHEDULERS, name="schedulerkind", native_enum=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scheduler", _scheduler_kind(), server_default="sm2", nullable=False)
        )
        batch_op.add_column(
            sa.Column("desired_retention", sa.Double(), server_default="0.9", nullable=False)
        )
        batch_op.add_column(sa.Column("fsrs_parameters", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("fsrs_fitted_reviews", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stability", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("difficulty", sa.Double(), nullable=True))
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduler", _scheduler_kind(), nullable=True))
        batch_op.add_column(sa.Column("elapsed_days", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("predicted_recall", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("predicted_recall")
        batch_op.drop_column("elapsed_days")
        batch_op.drop_column("scheduler")
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_column("difficulty")
        batch_op.drop_column("stability")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("fsrs_fitted_reviews")
        batch_op.drop_column("fsrs_parameters")
        batch_op.drop_column("desired_retention")
        batch_op.drop_column("scheduler")
