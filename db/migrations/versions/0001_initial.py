"""Initial schema: members, servers, artists, likes, marks, Last.fm links, snapshots, revision.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full rather than imported from db.models, so this revision keeps creating the
same schema however the models change later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("CURRENT_TIMESTAMP")


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else _NOW,
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        _timestamp("created_at"),
        sa.Column("privacy", sa.String(16), nullable=False, server_default="public"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.CheckConstraint("privacy IN ('public', 'private')", name="ck_users_privacy"),
    )
    op.create_table(
        "guilds",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_guilds"),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        _timestamp("joined_at"),
        sa.PrimaryKeyConstraint("user_id", "guild_id", name="pk_memberships"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], name="fk_memberships_guild_id_guilds", ondelete="CASCADE"),
    )
    op.create_index("ix_memberships_guild_id", "memberships", ["guild_id"])

    op.create_table(
        "artists",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("normalized_name", sa.String(500), nullable=False),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_artists"),
        sa.CheckConstraint("source IN ('lastfm', 'member')", name="ck_artists_source"),
    )
    op.create_index("ix_artists_normalized_name", "artists", ["normalized_name"])
    op.create_index(
        "uq_artists_member_normalized_name",
        "artists",
        ["normalized_name"],
        unique=True,
        sqlite_where=sa.text("source = 'member'"),
        postgresql_where=sa.text("source = 'member'"),
    )

    op.create_table(
        "likes",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="discord"),
        sa.Column("weight", sa.Float(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("user_id", "artist_id", name="pk_likes"),
        sa.CheckConstraint("source IN ('discord', 'lastfm')", name="ck_likes_source"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_likes_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["artist_id"], ["artists.id"], name="fk_likes_artist_id_artists", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], name="fk_likes_guild_id_guilds", ondelete="SET NULL"),
    )
    op.create_index("ix_likes_artist_id", "likes", ["artist_id"])

    op.create_table(
        "not_interested",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("user_id", "artist_id", name="pk_not_interested"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_not_interested_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name="fk_not_interested_artist_id_artists",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "lastfm_links",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        _timestamp("linked_at"),
        _timestamp("refreshed_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_lastfm_links"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_lastfm_links_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_lastfm_links_username", "lastfm_links", ["username"])

    op.create_table(
        "model_snapshots",
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("artists", sa.Integer(), nullable=False),
        sa.Column("interactions", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="ready"),
        sa.PrimaryKeyConstraint("version", name="pk_model_snapshots"),
        sa.CheckConstraint("status IN ('ready', 'failed')", name="ck_model_snapshots_status"),
    )
    op.create_index("ix_model_snapshots_created_at", "model_snapshots", ["created_at"])

    revision_table = op.create_table(
        "store_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_store_revision"),
        sa.CheckConstraint("id = 1", name="ck_store_revision_single_row"),
    )
    # The one row every mutating store call increments.
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    for table in (
        "store_revision",
        "model_snapshots",
        "lastfm_links",
        "not_interested",
        "likes",
        "artists",
        "memberships",
        "guilds",
        "users",
    ):
        op.drop_table(table)
