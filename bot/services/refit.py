"""Refitting the model from the store in the background, and serving the newest good snapshot.

A refit reads every like from the store (on the event loop, the store is async), then builds the
matrix, fits and saves in a worker thread, so the loop that answers Discord is never blocked. The new
engine is swapped in by one assignment; a failed refit logs why and leaves the old engine serving.

Two ways to keep the served model fresh:
- `run`: this process refits itself (the embedded one-process bot, and `encore train`);
- `follow`: another process (`encore train`) refits and records each snapshot in the store; this one
  loads every newer recorded snapshot (sharded bots, which must all serve the same model).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from db.store import Store
from recommender.catalogue import ArtistCatalogue
from recommender.engine import LIKE_PLAYS, Engine
from recommender.interactions import Interactions
from recommender.merge import MemberPlays, merge_members
from recommender.models.als import ALSConfig
from recommender.snapshot import (
    Snapshot,
    SnapshotError,
    load_latest,
    load_snapshot,
    remove_old_snapshots,
    save_snapshot,
)
from recommender.training import ImplicitTrainer, Trainer

log = logging.getLogger(__name__)

#: A periodic refit starts from the served model's factors; 8 iterations from there scored NDCG@10
#: 0.2636 on P1 against 0.2642 for a cold 15 (seeds 0-2, the warm start fitted without 10 % of the
#: users), at about half the time. Every COLD_EVERY-th refit starts cold so that no drift piles up.
WARM_ITERATIONS = 8
COLD_EVERY = 10
#: Snapshots kept on disk after a refit (each is a few MB on the Last.fm data; refits run all day).
KEEP_SNAPSHOTS = 5


@dataclass(frozen=True)
class RefitTimings:
    read: float
    build: float
    fit: float
    save: float
    swap: float

    @property
    def total(self) -> float:
        return self.read + self.build + self.fit + self.save + self.swap

    def as_dict(self) -> dict[str, float]:
        return {
            "read": self.read,
            "build": self.build,
            "fit": self.fit,
            "save": self.save,
            "swap": self.swap,
            "total": self.total,
        }


@dataclass
class ServingState:
    """What is being served now; replaced whole on every swap so readers never see a mix."""

    engine: Engine
    snapshot: Snapshot
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class RefitService:
    def __init__(
        self,
        store: Store,
        lastfm: Interactions,
        lastfm_fingerprint: str,
        catalogue: ArtistCatalogue,
        snapshot_dir: Path,
        refit_minutes: float = 30.0,
        like_plays: float = LIKE_PLAYS,
        config: ALSConfig = ALSConfig(),
        warm_iterations: int = WARM_ITERATIONS,
        trainer: Trainer | None = None,
    ) -> None:
        self.store = store
        self.lastfm = lastfm
        self.lastfm_fingerprint = lastfm_fingerprint
        self.catalogue = catalogue
        self.snapshot_dir = snapshot_dir
        self.refit_interval = refit_minutes * 60.0
        self.like_plays = like_plays
        self.trainer = trainer or ImplicitTrainer(config)
        self.config = self.trainer.config
        self.warm_iterations = warm_iterations
        self.state: ServingState | None = None
        self.last_refit_at: float | None = None
        self.last_error: str | None = None
        self.last_timings: RefitTimings | None = None
        self._lock = asyncio.Lock()
        self._catalogue_lock = asyncio.Lock()
        self._refused_versions: set[str] = set()

    @property
    def engine(self) -> Engine:
        if self.state is None:
            raise RuntimeError("RefitService.start() has not run")
        return self.state.engine

    # -- start ----------------------------------------------------------------------------------

    async def start(self, published_first: bool = False) -> ServingState:
        """Serve the newest good snapshot for this data; fit one only if there is none.

        `published_first`: a process that follows a trainer starts from the newest snapshot the
        trainer recorded in the store, when it can load one.
        """
        await asyncio.to_thread(remove_stale_staging, self.snapshot_dir)
        if published_first and await self.pick_up_published():
            assert self.state is not None
            return self.state
        snapshot, skipped = await asyncio.to_thread(load_latest, self.snapshot_dir, self.lastfm_fingerprint)
        for reason in skipped:
            log.warning("skipped a snapshot: %s", reason)
        if snapshot is None:
            log.info("no usable snapshot in %s; fitting one", self.snapshot_dir)
            await self.refit()
        else:
            await self._swap(snapshot)
            log.info("serving snapshot %s", snapshot.version)
        assert self.state is not None
        return self.state

    # -- refit ----------------------------------------------------------------------------------

    async def refit_if_due(self, now: float | None = None) -> bool:
        """Refit when the interval has passed and the store changed since the served snapshot."""
        now = time.monotonic() if now is None else now
        if self.last_refit_at is not None and now - self.last_refit_at < self.refit_interval:
            return False
        served = self.state.snapshot.meta.get("store_revision") if self.state else None
        if served is not None and served == await self.store.revision():
            return False
        return await self.refit() is not None

    async def refit(self) -> RefitTimings | None:
        """One refit from the store to the swapped-in snapshot; None (and a log line) if it failed."""
        async with self._lock:
            self.last_refit_at = time.monotonic()
            try:
                timings = await self._refit()
            except Exception as error:  # noqa: BLE001 - any failure must leave the old model serving
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception(
                    "refit failed; still serving %s", self.state.snapshot.version if self.state else "nothing"
                )
                if self.state is None:
                    raise
                return None
            self.last_error = None
            self.last_timings = timings
            log.info(
                "refit done in %.2f s (%s)",
                timings.total,
                ", ".join(f"{k} {v:.2f} s" for k, v in timings.as_dict().items() if k != "total"),
            )
            return timings

    async def _refit(self) -> RefitTimings:
        started = time.perf_counter()
        revision = await self.store.revision()
        likes = await self.store.all_likes()
        new_artists = [(a.id, a.name, a.url) for a in await self.store.member_artists()]
        read = time.perf_counter() - started
        snapshot, build, fit, save = await asyncio.to_thread(self._build_fit_save, likes, revision, new_artists)
        started = time.perf_counter()
        await self._swap(snapshot)
        await self.publish(snapshot)
        await asyncio.to_thread(remove_old_snapshots, self.snapshot_dir, KEEP_SNAPSHOTS)
        return RefitTimings(read, build, fit, save, time.perf_counter() - started)

    def _build_fit_save(self, likes, revision: int, new_artists: list) -> tuple[Snapshot, float, float, float]:
        started = time.perf_counter()
        members = MemberPlays.from_likes(likes, self.like_plays)
        interactions = merge_members(self.lastfm, members)
        warm_from = self._warm_start_source()
        initial = None
        if warm_from is not None:
            previous = warm_from.snapshot
            initial = previous.model.factors_for(
                previous.interactions.user_keys,
                previous.interactions.artist_ids,
                interactions.user_keys,
                interactions.artist_ids,
            )
        build = time.perf_counter() - started
        started = time.perf_counter()
        iterations = self.warm_iterations if initial is not None else self.config.iterations
        model = self.trainer.fit(interactions.plays, initial=initial, iterations=iterations)
        fit = time.perf_counter() - started
        started = time.perf_counter()
        meta = {
            "data_fingerprint": self.lastfm_fingerprint,
            "store_revision": revision,
            "members": int(len(set(members.user_ids.tolist()))),
            "member_likes": int(members.user_ids.size),
            "fit_seconds": round(fit, 3),
            "trainer": self.trainer.name,
            "iterations": iterations,
            "warm_start_from": warm_from.snapshot.version if warm_from else None,
            "warm_chain": (warm_from.snapshot.meta.get("warm_chain", 0) + 1) if warm_from else 0,
            # Names of artists only members know, so the snapshot can be served without the store.
            "member_artists": [
                [int(i), str(n), u] for i, n, u in new_artists if interactions.artist_column(i) is not None
            ],
        }
        path = save_snapshot(self.snapshot_dir, model, interactions, meta)
        snapshot = load_snapshot(path)
        return snapshot, build, fit, time.perf_counter() - started

    def _warm_start_source(self) -> ServingState | None:
        """The served state, if its model can seed this refit (same settings, chain not too long)."""
        state = self.state
        if state is None or self.warm_iterations <= 0 or not self.trainer.warm_starts:
            return None
        if state.snapshot.model.config != self.config:
            return None
        if state.snapshot.meta.get("warm_chain", 0) + 1 >= COLD_EVERY:
            return None
        return state

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None:
        """Make the serving catalogue name these (artist_id, name, url) artists.

        The rebuild runs in a worker thread; the lock makes each rebuild start from the catalogue
        the previous one produced, so two additions at once cannot undo each other.
        """
        async with self._catalogue_lock:
            missing = [a for a in artists if int(a[0]) not in self.catalogue]
            if missing:
                self.catalogue = await asyncio.to_thread(self.catalogue.extended, missing)

    async def _swap(self, snapshot: Snapshot) -> None:
        await self.include_artists(snapshot.member_artists)
        engine = Engine(snapshot.model, snapshot.interactions, self.catalogue, self.like_plays)
        # Off the event loop: what the first request would otherwise build (the pruned scorer).
        await asyncio.to_thread(engine.prepare)
        self.state = ServingState(engine=engine, snapshot=snapshot)

    async def publish(self, snapshot: Snapshot) -> None:
        """Record `snapshot` in the store, where processes that follow a trainer find it."""
        meta = snapshot.meta
        await self.store.record_snapshot(
            version=snapshot.version,
            path=str(snapshot.path),
            created_at=datetime.fromisoformat(meta["created"]),
            users=meta["users"],
            artists=meta["artists"],
            interactions=meta["interactions"],
            metrics={key: meta.get(key) for key in ("fit_seconds", "trainer", "data_fingerprint")},
        )

    # -- following a trainer ----------------------------------------------------------------------

    async def pick_up_published(self) -> bool:
        """Serve the newest snapshot recorded in the store, if it is newer than the served one.

        A snapshot is looked for under this process's own snapshot folder first (the shared folder may
        be mounted elsewhere here), then at the path the trainer recorded. One that cannot be loaded,
        or was fitted on other Last.fm data, is logged once and skipped; the served model stays.
        """
        rows = await self.store.snapshots(limit=1)
        if not rows or rows[0].status != "ready":
            return False
        row = rows[0]
        served = self.state.snapshot.version if self.state else None
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
            if snapshot.meta.get("data_fingerprint") != self.lastfm_fingerprint:
                raise SnapshotError(f"snapshot {row.version} was fitted on other Last.fm data")
        except SnapshotError as error:
            self._refused_versions.add(row.version)
            log.warning("not serving the published snapshot: %s", error)
            return False
        await self._swap(snapshot)
        log.info(
            "serving the published snapshot %s (trainer %s)", snapshot.version, snapshot.meta.get("trainer", "implicit")
        )
        return True

    async def follow(self, stop: asyncio.Event, poll_seconds: float = 10.0) -> None:
        """Check the store for a newer published snapshot every `poll_seconds` until `stop` is set."""
        while not stop.is_set():
            try:
                await self.pick_up_published()
            except Exception:  # noqa: BLE001 - the loop must outlive a bad check (e.g. the database restarting)
                log.exception("checking for a published snapshot failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass

    # -- loop -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, poll_seconds: float = 30.0) -> None:
        """Check every `poll_seconds` until `stop` is set."""
        while not stop.is_set():
            try:
                await self.refit_if_due()
            except Exception:  # noqa: BLE001 - the loop must outlive a bad check
                log.exception("refit check failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass


STALE_STAGING_SECONDS = 600


def remove_stale_staging(snapshot_dir: Path) -> None:
    """Delete half-written snapshots left by a process killed while saving.

    Only old ones: a fresh one may belong to another process (`encore fit`) saving right now.
    """
    if not snapshot_dir.is_dir():
        return
    for leftover in snapshot_dir.glob(".incoming-*"):
        try:
            age = time.time() - leftover.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > STALE_STAGING_SECONDS:
            shutil.rmtree(leftover, ignore_errors=True)
