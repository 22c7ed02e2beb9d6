"""Recording a snapshot in the store, where processes that follow a trainer find it."""

from __future__ import annotations

from datetime import datetime

from db.store import Store
from recommender.snapshot import Snapshot


async def publish(store: Store, snapshot: Snapshot) -> None:
    meta = snapshot.meta
    await store.snapshots.record_snapshot(
        version=snapshot.version,
        path=str(snapshot.path),
        created_at=datetime.fromisoformat(meta["created"]),
        users=meta["users"],
        artists=meta["artists"],
        interactions=meta["interactions"],
        metrics={key: meta.get(key) for key in ("fit_seconds", "trainer", "data_fingerprint")},
    )
