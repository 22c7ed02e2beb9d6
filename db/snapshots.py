"""`Snapshots`: the fitted model snapshots on disk and how they scored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.database import Database, aware, check_choice
from db.models import SNAPSHOT_STATUSES, model_snapshots
from db.rows import SnapshotRow, SnapshotStatus


class Snapshots:
    """Model snapshots by version. Not member data: recording one does not bump the revision,
    or each refit would trigger the next one."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def record_snapshot(
        self,
        version: str,
        path: str | Path,
        created_at: datetime,
        users: int,
        artists: int,
        interactions: int,
        metrics: Mapping[str, Any],
        status: SnapshotStatus = "ready",
    ) -> None:
        """Record a fitted snapshot; recording a version again replaces its row."""
        check_choice(status, SNAPSHOT_STATUSES, "snapshot status")
        values = {
            "path": str(path),
            "created_at": aware(created_at),
            "users": users,
            "artists": artists,
            "interactions": interactions,
            "metrics": dict(metrics),
            "status": status,
        }
        statement = self._db.insert(model_snapshots).values(version=version, **values)
        statement = statement.on_conflict_do_update(index_elements=["version"], set_=values)
        async with self._db.write() as conn:
            await conn.execute(statement)

    async def recent(self, limit: int = 10) -> list[SnapshotRow]:
        """The latest `limit` snapshots, newest first."""
        query = (
            select(
                model_snapshots.c.version,
                model_snapshots.c.path,
                model_snapshots.c.created_at,
                model_snapshots.c.users,
                model_snapshots.c.artists,
                model_snapshots.c.interactions,
                model_snapshots.c.metrics,
                model_snapshots.c.status,
            )
            .order_by(model_snapshots.c.created_at.desc(), model_snapshots.c.version.desc())
            .limit(limit)
        )
        async with self._db.connect() as conn:
            result = await conn.execute(query)
            return [SnapshotRow(*row) for row in result]
