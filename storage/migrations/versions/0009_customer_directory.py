"""customer directory, direct contacts and contact clocks

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-10

``customers`` keeps customers across incidents (tier, language, Slack Connect channel,
e-mail addresses, contact person); an affected customer links to it by name. A direct
contact records how it was made and its permalink or Message-ID; the contact clock
(by tier) is ``contact_due_at``, and ``clock_alerted_at`` says the comms owner was
reminded once. Parked calls gain ``context`` for their after step.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("slack_channel", sa.String(length=32), nullable=False),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint("team_id", "name_key", name="uq_directory_name"),
    )
    with op.batch_alter_table("affected_customers") as batch:
        batch.add_column(sa.Column("directory_id", _ID, nullable=True))
        batch.add_column(sa.Column("contacted_via", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("contact_ref", sa.Text(), nullable=True))
        batch.add_column(sa.Column("contact_due_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("clock_alerted_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("channel_lost_at", _WHEN, nullable=True))
        batch.create_foreign_key(
            "fk_affected_customers_directory",
            "customers",
            ["directory_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("slack_outbox") as batch:
        batch.add_column(sa.Column("context", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slack_outbox") as batch:
        batch.drop_column("context")
    with op.batch_alter_table("affected_customers") as batch:
        batch.drop_constraint("fk_affected_customers_directory", type_="foreignkey")
        batch.drop_column("channel_lost_at")
        batch.drop_column("clock_alerted_at")
        batch.drop_column("contact_due_at")
        batch.drop_column("contact_ref")
        batch.drop_column("contacted_via")
        batch.drop_column("directory_id")
    op.drop_table("customers")
