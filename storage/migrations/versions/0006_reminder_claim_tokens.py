"""reminder claim tokens and delivery progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Each claim of a reminder carries a token of its own (the fence of every later write), the
time its version was first claimed (the lower bound of the history search), the message a
claim posted for that version and when its direct message was handed to Slack.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("claim_token", "first_claimed_at", "posted_ts", "dm_at")


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("first_claimed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("posted_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dm_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)
