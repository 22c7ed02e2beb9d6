"""Who added each member artist (for the daily limit), and member artist ids that are never given twice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

Who added the member artists stored before this revision is unknown: they count towards no one's
limit. ``member_artist_ids`` starts after the highest member artist id stored (an id freed before
this revision, by deleting the newest artist, cannot be told apart from one never used).

The adder has a table of its own rather than a column of ``artists``: SQLite can add a column with
its foreign key only inline, in a form it enforces but does not report back (no name, no ON DELETE),
and rebuilding ``artists`` instead would, with foreign keys on, cascade its deletion to every like.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# db.models.MEMBER_ARTIST_ID_BASE as it was at this revision: a migration must not change with the code.
_MEMBER_ARTIST_ID_BASE = 10_000_000


def upgrade() -> None:
    op.create_table(
        "artist_additions",
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.PrimaryKeyConstraint("artist_id", name="pk_artist_additions"),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["artists.id"], name="fk_artist_additions_artist_id_artists", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_artist_additions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_artist_additions_user_id_added_at", "artist_additions", ["user_id", "added_at"])
    op.create_table(
        "member_artist_ids",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_artist_ids"),
        sa.CheckConstraint("id = 1", name="ck_member_artist_ids_single_row"),
    )
    op.execute(
        "INSERT INTO member_artist_ids (id, next_id) "
        f"SELECT 1, COALESCE(MAX(id) + 1, {_MEMBER_ARTIST_ID_BASE}) FROM artists WHERE id >= {_MEMBER_ARTIST_ID_BASE}"
    )


def downgrade() -> None:
    op.drop_table("member_artist_ids")
    op.drop_index("ix_artist_additions_user_id_added_at", table_name="artist_additions")
    op.drop_table("artist_additions")
