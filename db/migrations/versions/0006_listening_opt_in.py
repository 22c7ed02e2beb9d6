"""Members' opt-in to listening activity (/privacy listening): ``users.listening_opt_in``, off by default.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Adding a NOT NULL column with a default is a plain ALTER on both SQLite and PostgreSQL; every member
already stored starts opted out. The downgrade drops the column in place too: rebuilding ``users``
(SQLite's batch mode) would drop the old table, and with foreign keys on, that deletes every row whose
foreign key cascades from ``users`` (likes, marks, memberships, sessions).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("listening_opt_in", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # SQLite has dropped a plain column in place since 3.35; the column has no index or constraint.
    op.execute("ALTER TABLE users DROP COLUMN listening_opt_in")
