"""playbooks applied to incidents, their steps, and customer languages

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-10

``incidents.playbook`` (added by 0008) names the playbook applied; ``cadence_seconds``
its update cadence (empty: the severity's), ``language`` the language customer messages
are drafted in;
``affected_customers.language`` is a customer's own language (empty: the incident's).
``playbook_steps`` holds the applied playbook's checklist and who ticked what, when.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
        batch.add_column(sa.Column("cadence_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("affected_customers") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.create_table(
        "playbook_steps",
        sa.Column("id", _ID, primary_key=True),
        sa.Column(
            "incident_id",
            _ID,
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("incident_id", "position", name="uq_playbook_steps_position"),
    )


def downgrade() -> None:
    op.drop_table("playbook_steps")
    with op.batch_alter_table("affected_customers") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("cadence_seconds")
        batch.drop_column("language")
