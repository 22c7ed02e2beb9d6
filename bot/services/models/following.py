"""Following a trainer: serving each newer snapshot another process (`encore train`) published."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.services.models.serving import Serving
from db.store import Store
from recommender.snapshot import SnapshotError, load_snapshot

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, *, store: Store, serving: Serving, snapshot_dir: Path, data_fingerprint: str) -> None:
        self.store = store
        self.serving = serving
        self.snapshot_dir = snapshot_dir
        self.data_fingerprint = data_fingerprint
        self._refused_versions: set[str] = set()

    async def pick_up_published(self) -> bool:
        """Serve the newest snapshot recorded in the store, if it is newer than the served one.

        A snapshot is looked for under this process's own snapshot folder first (the shared folder may
        be mounted elsewhere here), then at the path the trainer recorded. One that cannot be loaded,
        or was fitted on other Last.fm data, is logged once and skipped; the served model stays.
        """
        rows = await self.store.snapshots.recent(limit=1)
        if not rows or rows[0].status != "ready":
            return False
        row = rows[0]
        state = self.serving.state
        served = state.snapshot.version if state else None
        if served is not None and row.version <= served:
            return False
        if row.version in self._refused_versions:
            return False
        candidates = [self.snapshot_dir / row.version, Path(row.path)]
        path = next((p for p in candidates if p.is_dir()), None)
        try:
            if path is None:
                raise SnapshotError(f"snapshot {row.version} is in neither {candidates[0]} nor {candidates[1]}")
            snapshot = await asyncio.to_thread(load_snapshot, path)
            if snapshot.meta.get("data_fingerprint") != self.data_fingerprint:
                raise SnapshotError(f"snapshot {row.version} was fitted on other Last.fm data")
        except SnapshotError as error:
            self._refused_versions.add(row.version)
            log.warning("not serving the published snapshot: %s", error)
            return False
        await self.serving.swap(snapshot)
        log.info(
            "serving the published snapshot %s (trainer %s)", snapshot.version, snapshot.meta.get("trainer", "implicit")
        )
        return True
