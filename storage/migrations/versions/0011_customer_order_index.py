"""affected customers: an index in the order they are shown

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10

Checklist pages and the header's first few customers read an incident's customers by
``position``; with the index a page is read in order instead of sorting every customer
of the incident (thousands in a mass outage) on each click. ``contact_state`` rides
along so the per-state counts read the index alone.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_customers_incident_position",
        "affected_customers",
        ["incident_id", "position", "contact_state"],
    )


def downgrade() -> None:
    op.drop_index("ix_customers_incident_position", table_name="affected_customers")
