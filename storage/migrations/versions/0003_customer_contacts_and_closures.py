"""customer contacts and closures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_closures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("impact_summary", sa.Text(), nullable=False),
        sa.Column("amends", sa.Text(), nullable=False),
        sa.Column("prevention", sa.Text(), nullable=False),
        sa.Column("follow_up_owner", sa.String(length=32), nullable=False),
        sa.Column("follow_up_due", sa.Date(), nullable=False),
        sa.Column("resolved_by", sa.String(length=32), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id"),
    )
    with op.batch_alter_table("affected_customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contacted_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("followed_up_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answer", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("affected_customers", schema=None) as batch_op:
        batch_op.drop_column("answer")
        batch_op.drop_column("followed_up_at")
        batch_op.drop_column("followed_up_by")
        batch_op.drop_column("contacted_at")
        batch_op.drop_column("contacted_by")

    op.drop_table("incident_closures")
