"""drills and playbook reviews

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

``incidents.drill`` marks a rehearsal (kept out of the figures, never sent to customers) and
``incidents.playbook`` names the playbook it was declared from. ``playbook_reviews`` keeps,
per playbook name, who marked it reviewed for which ``review_by`` date, and when its owner
was last reminded (the weekly reminder is claimed by a conditional update of that column).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("drill", sa.Boolean(), server_default="0", nullable=False))
        batch.add_column(sa.Column("playbook", sa.String(length=100), nullable=True))
    op.create_table(
        "playbook_reviews",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("reviewed_for", sa.Date(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=32), nullable=True),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("playbook_reviews")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("playbook")
        batch.drop_column("drill")
