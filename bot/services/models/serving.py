"""What is served now: the newest good snapshot on disk at start, and every snapshot swapped in later."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.services.models.catalogue import ServingCatalogue
from recommender.engine import Engine
from recommender.snapshot import Snapshot, load_latest, staging_writer_is_gone

log = logging.getLogger(__name__)

#: A half-written snapshot older than this belongs to a process that died while saving.
STALE_STAGING_SECONDS = 600


@dataclass
class ServingState:
    """What is being served now; replaced whole on every swap so readers never see a mix."""

    engine: Engine
    snapshot: Snapshot
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Serving:
    def __init__(self, catalogue: ServingCatalogue, like_plays: float) -> None:
        self.catalogue = catalogue
        self.like_plays = like_plays
        self.state: ServingState | None = None

    async def swap(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` from now on: one assignment, after everything it needs is built."""
        await self.catalogue.include_artists(snapshot.member_artists)
        engine = Engine(snapshot.model, snapshot.interactions, self.catalogue.catalogue, self.like_plays)
        # Off the event loop: what the first request would otherwise build (the pruned scorer).
        await asyncio.to_thread(engine.prepare)
        self.state = ServingState(engine=engine, snapshot=snapshot)


async def load_newest(snapshot_dir: Path, data_fingerprint: str) -> Snapshot | None:
    """The newest snapshot under `snapshot_dir` that loads and was fitted on this data, if any."""
    snapshot, skipped = await asyncio.to_thread(load_latest, snapshot_dir, data_fingerprint)
    for reason in skipped:
        log.warning("skipped a snapshot: %s", reason)
    return snapshot


def remove_stale_staging(snapshot_dir: Path) -> None:
    """Delete half-written snapshots left by a process killed while saving.

    Those of a process of this host that no longer runs go at once; of the rest only old ones: a fresh
    one may belong to another process (`encore fit`, or a trainer on another host) saving right now.
    """
    if not snapshot_dir.is_dir():
        return
    for leftover in snapshot_dir.glob(".incoming-*"):
        try:
            age = time.time() - leftover.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > STALE_STAGING_SECONDS or staging_writer_is_gone(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
