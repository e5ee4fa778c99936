"""arbiter on generation runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing runs had no arbiter: empty model and version, no threshold, nothing judged.
    with op.batch_alter_table('generation_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arbiter_model', sa.String(length=128), server_default='', nullable=False))
        batch_op.add_column(sa.Column('arbiter_prompt_version', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('arbiter_threshold', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('arbiter_judged', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('arbiter_error', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('generation_runs', schema=None) as batch_op:
        batch_op.drop_column('arbiter_error')
        batch_op.drop_column('arbiter_judged')
        batch_op.drop_column('arbiter_threshold')
        batch_op.drop_column('arbiter_prompt_version')
        batch_op.drop_column('arbiter_model')
