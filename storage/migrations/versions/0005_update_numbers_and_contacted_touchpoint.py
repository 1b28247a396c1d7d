"""customer update numbers unique per incident; the “everyone contacted” touchpoint claim

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Before this revision an update's number was its position in the list, counted when it was
posted, so two updates recorded at once could both be announced as “#2”. Existing rows are
numbered 1, 2, … per incident in the order they were posted (time, then id), which gives
every row a distinct number even where two were announced with the same one; then the
column becomes required and unique per incident.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NUMBER_EXISTING = sa.text(
    """
    UPDATE customer_updates SET number = (
        SELECT count(*) FROM customer_updates AS earlier
        WHERE earlier.incident_id = customer_updates.incident_id
          AND (earlier.posted_at < customer_updates.posted_at
               OR (earlier.posted_at = customer_updates.posted_at
                   AND earlier.id <= customer_updates.id))
    )
    """
)


def upgrade() -> None:
    with op.batch_alter_table("customer_updates") as batch:
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
    op.execute(_NUMBER_EXISTING)
    with op.batch_alter_table("customer_updates") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_customer_updates_number", ["incident_id", "number"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("all_contacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("all_contacted_at")
    with op.batch_alter_table("customer_updates") as batch:
        batch.drop_constraint("uq_customer_updates_number", type_="unique")
        batch.drop_column("number")
