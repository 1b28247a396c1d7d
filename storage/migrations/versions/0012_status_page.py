"""status page: customer-facing titles, public ids, keeping an incident off the page,
customers' private page links

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10

Existing incidents get a random ``public_id`` each (the status page never shows the
sequential number) and stay ``public``; they appear on the page once an update gives them
a customer-facing title.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("incidents", sa.Column("public_title", sa.String(length=200), nullable=True))
    op.add_column(
        "incidents", sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("incidents", sa.Column("public_id", sa.String(length=32), nullable=True))
    incidents = sa.table("incidents", sa.column("id", _ID), sa.column("public_id", sa.String))
    connection = op.get_bind()
    for (incident_id,) in connection.execute(sa.select(incidents.c.id)).all():
        connection.execute(
            incidents.update()
            .where(incidents.c.id == incident_id)
            .values(public_id=secrets.token_urlsafe(9))
        )
    # A unique index, not a constraint: on SQLite a constraint means recreating
    # ``incidents``, and dropping the old table would cascade to every row pointing at it.
    op.create_index("ix_incidents_public_id", "incidents", ["public_id"], unique=True)
    op.create_table(
        "customer_links",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=32), nullable=True),
    )
    op.create_index(
        "uq_customer_links_live",
        "customer_links",
        ["team_id", "name_key"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_customer_links_live", table_name="customer_links")
    op.drop_table("customer_links")
    op.drop_index("ix_incidents_public_id", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("public_id")
        batch.drop_column("public")
        batch.drop_column("public_title")
