"""Index the likes by server and time, for /trending and the weekly digest.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

`Guilds.guild_like_counts` asks for one server's likes in a time window. Without an index on
``likes(guild_id, created_at)`` every such read scanned the whole likes table, so /trending got slower
with every member of every server (benchmarks/scale_members.py measures it). An index only: the
downgrade drops it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_likes_guild_id_created_at", "likes", ["guild_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_likes_guild_id_created_at", table_name="likes")
