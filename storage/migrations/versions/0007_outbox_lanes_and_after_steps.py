"""slack outbox: per-incident order, follow-up steps and the answer they need

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``incident_id`` puts a parked call in its incident's lane (delivered in the order made);
``after`` names the step the lifecycle code runs once the call went through, and
``result`` keeps Slack's answer until that step has run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("slack_outbox") as batch:
        batch.add_column(sa.Column("incident_id", _ID, nullable=True))
        batch.add_column(sa.Column("after", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("result", sa.Text(), nullable=True))
        batch.create_index("ix_slack_outbox_incident", ["incident_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("slack_outbox") as batch:
        batch.drop_index("ix_slack_outbox_incident")
        batch.drop_column("result")
        batch.drop_column("after")
        batch.drop_column("incident_id")
