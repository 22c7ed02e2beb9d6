"""Weekly server digests (/encore digest): one schedule per server, with when it last posted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A new table only: nothing existing changes, so the downgrade just drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_digests",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("last_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", name="pk_server_digests"),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="ck_server_digests_weekday"),
        sa.CheckConstraint("hour >= 0 AND hour <= 23", name="ck_server_digests_hour"),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"], name="fk_server_digests_guild_id_guilds", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("server_digests")
