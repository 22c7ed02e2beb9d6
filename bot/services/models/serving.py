"""What is served now: the newest good snapshot on disk at start, and every snapshot swapped in later."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.services.models.catalogue import ServingCatalogue
from bot.services.models.placements import Placement, PlacementBook
from recommender.engine import Engine
from recommender.placement import Neighbour, with_placed
from recommender.snapshot import Snapshot, load_latest, staging_writer_is_gone

log = logging.getLogger(__name__)

#: A half-written snapshot older than this belongs to a process that died while saving.
STALE_STAGING_SECONDS = 600
#: Seconds without a new placement before the placed engine's pruned scorer is built.
PREPARE_AFTER_SECONDS = 1.0


@dataclass
class ServingState:
    """What is being served now; replaced whole on every swap so readers never see a mix (placing an
    artist replaces only `engine`, with one over the same snapshot and one more column)."""

    engine: Engine
    snapshot: Snapshot
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Serving:
    def __init__(self, catalogue: ServingCatalogue, like_plays: float, book: PlacementBook | None = None) -> None:
        self.catalogue = catalogue
        self.like_plays = like_plays
        self.state: ServingState | None = None
        #: Artists placed from their similar artists (recommender/placement.py): placed again over every
        #: snapshot served that has not learned them yet.
        self.book = book or PlacementBook(None)
        # Swaps and placements each build on the engine served; one at a time, so none is lost.
        self._building = asyncio.Lock()
        # One write of the book at a time, each merging with the file as the one before left it; a write
        # covers every change made before it started, so a burst of placements writes two or three times.
        self._saving = asyncio.Lock()
        self._changes = self._saved = 0
        # The engine served while its pruned scorer is built in the background (one build at a time).
        self._dense: Engine | None = None
        self._preparing: asyncio.Task[None] | None = None

    async def swap(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` from now on: one assignment, after everything it needs is built."""
        async with self._building:
            # Artists another process placed (a shard, before the trainer's refit) are placed here too.
            self.book.merge(await asyncio.to_thread(self.book.read))
            await self.catalogue.include_artists(snapshot.member_artists)
            engine = Engine(snapshot.model, snapshot.interactions, self.catalogue.catalogue, self.like_plays)
            # Off the event loop: placing the artists the snapshot lacks, and what the first request
            # would otherwise build (the pruned scorer).
            engine = await asyncio.to_thread(_placed_and_prepared, engine, await self._pending(engine))
            self.state, self._dense = ServingState(engine=engine, snapshot=snapshot), None

    async def place(self, artist_id: int, placement: Placement) -> tuple[Neighbour, ...]:
        """Serve this (named) member artist from now on with factors placed from `placement`'s neighbours,
        unless the model served learned it already; returns the neighbours known to the model (none: not
        placed, it waits for a refit). Recorded in the book, so restarts and swaps place it again."""
        artist_id = int(artist_id)
        self.book.record(artist_id, placement)
        self.catalogue.members.set_tags(artist_id, placement.tags)
        await self._save()
        # Placements made meanwhile (a burst of adds) are placed in one build, by whoever comes first.
        await self.place_pending()
        state = self.state
        if state is None or state.snapshot.interactions.artist_column(artist_id) is not None:
            return ()
        known = state.engine.interactions
        if known.artist_column(artist_id) is None:
            return ()
        return tuple(n for n in placement.neighbours if known.artist_column(n.artist_id) is not None)

    async def place_pending(self) -> None:
        """Place the booked artists the catalogue names now and the engine served lacks (named from the
        store after the snapshot was served, say); costs a scan of the book when there are none."""
        state = self.state
        if state is None or not self.book.entries or not await self._pending(state.engine):
            return
        async with self._building:
            state = self.state
            assert state is not None
            pending = await self._pending(state.engine)
            if not pending:
                return
            placed = await asyncio.to_thread(_placed_dense, state.engine, pending)
            # Served at once, scoring every artist; the pruned scorer (`Engine.prepare`, the longer part)
            # is built in the background and its engine takes over when ready: the answers are the same.
            state.engine = self._dense = placed
            if self._preparing is None or self._preparing.done():
                self._preparing = asyncio.create_task(self._prepare_dense(state))

    async def _prepare_dense(self, state: ServingState) -> None:
        while True:
            placed = self._dense
            # After a quiet spell: a burst of placements is prepared once, and no build competes with it.
            await asyncio.sleep(PREPARE_AFTER_SECONDS)
            if self._dense is None or self.state is not state or state.engine is not self._dense:
                return
            if self._dense is not placed:
                continue  # placed again meanwhile
            # Serving's own threshold, as `swap` builds it (the placed engine's was raised to stay dense).
            prepared = Engine(placed.model, placed.interactions, placed.catalogue, placed.like_plays)
            await asyncio.to_thread(prepared.prepare)
            if self.state is state and state.engine is placed:
                state.engine, self._dense = prepared, None
                return

    async def drop_placements(self, artist_ids: Sequence[int]) -> None:
        """Deleted artists are placed no more, nor kept in the book."""
        if artist_ids:
            self.book.drop(artist_ids)
            await self._save()

    async def _save(self) -> None:
        self._changes += 1
        wanted = self._changes
        async with self._saving:
            if self._saved >= wanted:
                return  # a write that started after this change covered it
            started_at = self._changes
            await asyncio.to_thread(self.book.saver())
            self._saved = started_at

    async def _pending(self, engine: Engine) -> dict[int, tuple[Neighbour, ...]]:
        """Booked artists to place over `engine`: named by the catalogue, still findable, not in it."""
        members = self.catalogue.members
        deleted = [a for a in self.book.entries if a in members and not members.findable(a)]
        if deleted:
            await self.drop_placements(deleted)
        pending = {}
        for artist_id, placement in self.book.entries.items():
            if artist_id not in members:
                continue
            # Its Last.fm tags stay once a refit learned it, too.
            members.set_tags(artist_id, placement.tags)
            if engine.interactions.artist_column(artist_id) is None:
                pending[artist_id] = placement.neighbours
        return pending


def _placed_dense(engine: Engine, placements: dict[int, tuple[Neighbour, ...]]) -> Engine:
    placed = with_placed(engine, placements).engine
    placed.pruned_from_artists = placed.model.n_items + 1
    return placed


def _placed_and_prepared(engine: Engine, placements: dict[int, tuple[Neighbour, ...]]) -> Engine:
    # The snapshot served stays the same: only its engine gains columns.
    if placements:
        engine = with_placed(engine, placements).engine
    return engine.prepare()


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
