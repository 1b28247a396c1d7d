"""slack outbox, seen requests, OAuth installation and state stores

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

The OAuth tables are slack-sdk's own definitions (what its SQLAlchemy stores read and
write), created from a fresh MetaData so this migration does not depend on the models.
"""

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _oauth_tables(metadata: sa.MetaData) -> list[sa.Table]:
    return [
        SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations"),
        SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots"),
        SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states"),
    ]


def upgrade() -> None:
    op.create_table(
        "slack_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_slack_outbox_next_try", "slack_outbox", ["next_try_at"])
    op.create_index(op.f("ix_slack_outbox_key"), "slack_outbox", ["key"])
    op.create_table(
        "seen_requests",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(op.f("ix_seen_requests_seen_at"), "seen_requests", ["seen_at"])
    bind = op.get_bind()
    for table in _oauth_tables(sa.MetaData()):
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_oauth_tables(sa.MetaData())):
        table.drop(bind)
    op.drop_index(op.f("ix_seen_requests_seen_at"), table_name="seen_requests")
    op.drop_table("seen_requests")
    op.drop_index(op.f("ix_slack_outbox_key"), table_name="slack_outbox")
    op.drop_index("ix_slack_outbox_next_try", table_name="slack_outbox")
    op.drop_table("slack_outbox")
