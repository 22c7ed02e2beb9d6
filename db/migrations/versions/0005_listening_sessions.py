"""Listening sessions: the session, its group, the artists it proposed and the votes; 'session' likes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-15

An "Into it" vote is stored as a like with ``source = 'session'``, so the CHECK on ``likes.source``
grows a value. SQLite cannot alter a CHECK: ``likes`` is rebuilt (batch mode) from its definition at
this revision rather than from reflection, so nothing else about it changes. No table references
``likes``, so dropping the old copy cascades nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabularies as they are at this revision: a migration must not change with the code.
_OLD_SOURCES = "source IN ('discord', 'lastfm')"
_NEW_SOURCES = "source IN ('discord', 'lastfm', 'session')"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.text("CURRENT_TIMESTAMP"),
    )


def _likes(check: str) -> sa.Table:
    """``likes`` as it is at this revision (with `check` on its source), for SQLite's rebuild."""
    return sa.Table(
        "likes",
        sa.MetaData(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="discord"),
        sa.Column("weight", sa.Float(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("user_id", "artist_id", name="pk_likes"),
        sa.CheckConstraint(check, name="ck_likes_source"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_likes_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["artist_id"], ["artists.id"], name="fk_likes_artist_id_artists", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], name="fk_likes_guild_id_guilds", ondelete="SET NULL"),
        sa.Index("ix_likes_artist_id", "artist_id"),
    )


def _set_like_sources(check: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("likes", copy_from=_likes(check), recreate="always"):
            pass
    else:
        op.drop_constraint("ck_likes_source", "likes", type_="check")
        op.create_check_constraint("ck_likes_source", "likes", check)


def upgrade() -> None:
    _set_like_sources(_NEW_SOURCES)
    op.create_table(
        "listening_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("panel_message_id", sa.BigInteger(), nullable=True),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("started_by", sa.BigInteger(), nullable=True),
        _timestamp("started_at"),
        _timestamp("last_vote_at"),
        _timestamp("ended_at", nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_listening_sessions"),
        sa.CheckConstraint("strategy IN ('average', 'least-misery')", name="ck_listening_sessions_strategy"),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('ended', 'empty', 'idle')", name="ck_listening_sessions_end_reason"
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guilds.id"], name="fk_listening_sessions_guild_id_guilds", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["users.id"], name="fk_listening_sessions_started_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_listening_sessions_guild_id_started_at", "listening_sessions", ["guild_id", "started_at"])
    op.create_index(
        "uq_listening_sessions_open_voice_channel_id",
        "listening_sessions",
        ["voice_channel_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "session_members",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        _timestamp("joined_at"),
        _timestamp("left_at", nullable=True),
        sa.PrimaryKeyConstraint("session_id", "user_id", name="pk_session_members"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["listening_sessions.id"],
            name="fk_session_members_session_id_listening_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_session_members_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_session_members_user_id", "session_members", ["user_id"])
    op.create_table(
        "session_picks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("for_members", sa.JSON(), nullable=False),
        sa.Column("because", sa.JSON(), nullable=False),
        _timestamp("proposed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_session_picks"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["listening_sessions.id"],
            name="fk_session_picks_session_id_listening_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["artists.id"], name="fk_session_picks_artist_id_artists", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_session_picks_session_id_position", "session_picks", ["session_id", "position"], unique=True)
    op.create_table(
        "session_votes",
        sa.Column("pick_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("into_it", sa.Boolean(), nullable=False),
        _timestamp("voted_at"),
        sa.PrimaryKeyConstraint("pick_id", "user_id", name="pk_session_votes"),
        sa.ForeignKeyConstraint(
            ["pick_id"], ["session_picks.id"], name="fk_session_votes_pick_id_session_picks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_session_votes_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_session_votes_user_id", "session_votes", ["user_id"])


def downgrade() -> None:
    op.drop_table("session_votes")
    op.drop_table("session_picks")
    op.drop_table("session_members")
    op.drop_index("uq_listening_sessions_open_voice_channel_id", table_name="listening_sessions")
    op.drop_table("listening_sessions")
    op.execute("DELETE FROM likes WHERE source = 'session'")
    _set_like_sources(_OLD_SOURCES)
