"""Where member-added artists may be seen: one row per server that added or liked one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing member artists become visible in the servers where they were liked, as they would have
been had the table existed then; liked only in DMs, they stay their likers' own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_artists",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "artist_id", name="pk_server_artists"),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"], name="fk_server_artists_guild_id_guilds", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["artists.id"], name="fk_server_artists_artist_id_artists", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name="fk_server_artists_added_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_server_artists_artist_id", "server_artists", ["artist_id"])
    op.execute(
        # Who liked first is not worth a window function: the adder is left unknown.
        "INSERT INTO server_artists (guild_id, artist_id, added_at) "
        "SELECT likes.guild_id, likes.artist_id, MIN(likes.created_at) "
        "FROM likes JOIN artists ON artists.id = likes.artist_id "
        "WHERE artists.source = 'member' AND likes.guild_id IS NOT NULL "
        "GROUP BY likes.guild_id, likes.artist_id"
    )


def downgrade() -> None:
    op.drop_index("ix_server_artists_artist_id", table_name="server_artists")
    op.drop_table("server_artists")
