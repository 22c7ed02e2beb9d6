"""The model service: one front over serving, refitting, publishing, following a trainer and the catalogue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from bot.services.models.catalogue import ServingCatalogue
from bot.services.models.following import Follower
from bot.services.models.forgetting import Forgetter
from bot.services.models.placements import Placement, PlacementBook
from bot.services.models.publishing import publish
from bot.services.models.refitting import WARM_ITERATIONS, Refitter, RefitTimings
from bot.services.models.serving import Serving, ServingState, load_newest, remove_stale_staging
from bot.services.periodic import run_periodically
from db.store import Store
from recommender.catalogue import ArtistCatalogue
from recommender.engine import LIKE_PLAYS, Engine
from recommender.models.als import ALSConfig
from recommender.placement import Neighbour
from recommender.snapshot import Snapshot
from recommender.training import ImplicitTrainer, LastFmData, Trainer

log = logging.getLogger(__name__)


class ModelService:
    """Serves the newest good snapshot and keeps it fresh, by refitting itself (`run`) or by following
    a trainer that refits in another process (`follow`: sharded bots, which must all serve one model)."""

    def __init__(
        self,
        *,
        store: Store,
        data: LastFmData,
        snapshot_dir: Path,
        refit_minutes: float = 30.0,
        trainer: Trainer | None = None,
        like_plays: float = LIKE_PLAYS,
        warm_iterations: int = WARM_ITERATIONS,
    ) -> None:
        self.store = store
        self.data = data
        self.snapshot_dir = snapshot_dir
        self._catalogue = ServingCatalogue(data.catalogue)
        self._serving = Serving(self._catalogue, like_plays, PlacementBook(snapshot_dir))
        self._refitter = Refitter(
            store=store,
            serving=self._serving,
            data=data,
            snapshot_dir=snapshot_dir,
            trainer=trainer or ImplicitTrainer(),
            refit_interval=refit_minutes * 60.0,
            warm_iterations=warm_iterations,
        )
        self._follower = Follower(
            store=store, serving=self._serving, snapshot_dir=snapshot_dir, data_fingerprint=data.fingerprint
        )
        self._forgetter = Forgetter(
            store=store, serving=self._serving, snapshot_dir=snapshot_dir, lock=self._refitter.lock
        )

    # -- what is served ---------------------------------------------------------------------------

    @property
    def state(self) -> ServingState | None:
        return self._serving.state

    @property
    def engine(self) -> Engine:
        if self._serving.state is None:
            raise RuntimeError("ModelService.start() has not run")
        return self._serving.state.engine

    @property
    def catalogue(self) -> ArtistCatalogue:
        return self._catalogue.catalogue

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None:
        """Make the serving catalogue name these (artist_id, name, url) artists (placing those booked)."""
        await self._catalogue.include_artists(artists)
        await self._serving.place_pending()

    async def place_artist(
        self, artist_id: int, neighbours: Sequence[Neighbour], tags: Sequence[str] = ()
    ) -> tuple[Neighbour, ...]:
        """Serve this member artist at once, its factors placed from the known `neighbours` (until a refit
        learns it), tagged `tags`; returns the neighbours it was placed from (none: it waits for a refit)."""
        return await self._serving.place(artist_id, Placement(tuple(neighbours), tuple(tags)))

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> list[Path]:
        """Drop the user's row and these artists (deleted from the store) from the served model and from
        every snapshot on disk, at once; returns the snapshots deleted. See forgetting.py."""
        removed = await self._forgetter.forget(user_key, artist_ids)
        await self._serving.drop_placements(artist_ids)
        return removed

    # -- the refitter's state, for /encore status and `encore fit` --------------------------------------

    @property
    def trainer(self) -> Trainer:
        return self._refitter.trainer

    @property
    def config(self) -> ALSConfig:
        return self._refitter.trainer.config

    @property
    def refit_interval(self) -> float:
        return self._refitter.refit_interval

    @property
    def last_refit_at(self) -> float | None:
        return self._refitter.last_refit_at

    @property
    def last_error(self) -> str | None:
        return self._refitter.last_error

    @property
    def last_timings(self) -> RefitTimings | None:
        return self._refitter.last_timings

    # -- start --------------------------------------------------------------------------------------

    async def start(self, published_first: bool = False) -> ServingState:
        """Serve the newest good snapshot for this data; fit one only if there is none.

        `published_first`: a process that follows a trainer starts from the newest snapshot the
        trainer recorded in the store, when it can load one.
        """
        await asyncio.to_thread(remove_stale_staging, self.snapshot_dir)
        if published_first and await self.pick_up_published():
            assert self.state is not None
            return self.state
        snapshot = await load_newest(self.snapshot_dir, self.data.fingerprint)
        if snapshot is None:
            log.info("no usable snapshot in %s; fitting one", self.snapshot_dir)
            await self.refit()
        else:
            await self._serving.swap(snapshot)
            log.info("serving snapshot %s", snapshot.version)
        assert self.state is not None
        return self.state

    # -- refitting, publishing, following -------------------------------------------------------------

    async def refit(self) -> RefitTimings | None:
        """Refit from the store now; None if it failed (the old model serves), raised if nothing serves."""
        return await self._refitter.refit()

    async def refit_if_due(self, now: float | None = None) -> bool:
        return await self._refitter.refit_if_due(now)

    async def publish(self, snapshot: Snapshot) -> None:
        """Record `snapshot` in the store, where processes that follow a trainer find it."""
        await publish(self.store, snapshot)

    async def pick_up_published(self) -> bool:
        return await self._follower.pick_up_published()

    async def run(self, stop: asyncio.Event, poll_seconds: float = 30.0) -> None:
        """Refit when due, checking every `poll_seconds` (and once at once), until `stop` is set."""
        await run_periodically(
            stop, every=poll_seconds, step=lambda: self.refit_if_due(), logger=log, what="refit check", immediately=True
        )

    async def follow(self, stop: asyncio.Event, poll_seconds: float = 10.0) -> None:
        """Serve each newer published snapshot, checking every `poll_seconds`, until `stop` is set."""
        await run_periodically(
            stop,
            every=poll_seconds,
            step=lambda: self.pick_up_published(),
            logger=log,
            what="checking for a published snapshot",
            immediately=True,
        )
