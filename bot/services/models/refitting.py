"""Refitting from the store: read every like, then fit and save off the event loop, then swap and publish.

A refit reads the store on the event loop (the store is async), then runs the fit-and-save pipeline
(`recommender.training.fit_and_save`) in a worker thread, so the loop that answers Discord is never
blocked. The new engine is swapped in by one assignment; a failed refit logs why and leaves the old
engine serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from bot.errors import failure_text
from bot.services.models.publishing import publish
from bot.services.models.serving import Serving, ServingState
from db.store import Store
from recommender.merge import MemberPlays
from recommender.snapshot import remove_old_snapshots
from recommender.training import LastFmData, Trainer, fit_and_save

log = logging.getLogger(__name__)

#: A periodic refit starts from the served model's factors, so fewer iterations than a cold fit reach
#: about the same quality. Every COLD_EVERY-th refit starts cold so that no drift piles up.
WARM_ITERATIONS = 8
COLD_EVERY = 10
#: Snapshots kept on disk after a refit: refits run all day, and only the newest few are ever served.
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


class Refitter:
    def __init__(
        self,
        *,
        store: Store,
        serving: Serving,
        data: LastFmData,
        snapshot_dir: Path,
        trainer: Trainer,
        refit_interval: float,
        warm_iterations: int = WARM_ITERATIONS,
    ) -> None:
        self.store = store
        self.serving = serving
        self.data = data
        self.snapshot_dir = snapshot_dir
        self.trainer = trainer
        self.refit_interval = refit_interval
        self.warm_iterations = warm_iterations
        self.last_refit_at: float | None = None
        self.last_error: str | None = None
        self.last_timings: RefitTimings | None = None
        #: Held by a refit, and by forgetting a member (forgetting.py): neither saves a snapshot the other missed.
        self.lock = asyncio.Lock()

    async def refit_if_due(self, now: float | None = None) -> bool:
        """Refit when the interval has passed and the store changed since the served snapshot."""
        now = time.monotonic() if now is None else now
        if self.last_refit_at is not None and now - self.last_refit_at < self.refit_interval:
            return False
        state = self.serving.state
        served = state.snapshot.meta.get("store_revision") if state else None
        if served is not None and served == await self.store.revision():
            return False
        return await self.refit() is not None

    async def refit(self) -> RefitTimings | None:
        """One refit from the store to the swapped-in snapshot; None (and a log line) if it failed.

        With nothing served yet there is nothing to fall back on, so the failure is raised."""
        async with self.lock:
            self.last_refit_at = time.monotonic()
            try:
                timings = await self._refit()
            except Exception as error:  # noqa: BLE001 - any failure must leave the old model serving
                self.last_error = failure_text(error)
                state = self.serving.state
                log.exception("refit failed; still serving %s", state.snapshot.version if state else "nothing")
                if state is None:
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
        columns = await self.store.likes.all_like_columns()
        likes = MemberPlays.from_columns(columns.user_ids, columns.artist_ids, columns.weights, self.serving.like_plays)
        member_artists = [(a.id, a.name, a.url) for a in await self.store.artists.member_artists()]
        read = time.perf_counter() - started
        warm_from = self._warm_start_source()
        result = await asyncio.to_thread(
            fit_and_save,
            self.data.interactions,
            self.snapshot_dir,
            data_fingerprint=self.data.fingerprint,
            trainer=self.trainer,
            member_likes=likes,
            member_artists=member_artists,
            like_plays=self.serving.like_plays,
            store_revision=revision,
            warm_start=warm_from.snapshot if warm_from is not None else None,
            warm_iterations=self.warm_iterations,
        )
        started = time.perf_counter()
        await self.serving.swap(result.snapshot)
        await publish(self.store, result.snapshot)
        await asyncio.to_thread(remove_old_snapshots, self.snapshot_dir, KEEP_SNAPSHOTS)
        return RefitTimings(read, result.build, result.fit, result.save, time.perf_counter() - started)

    def _warm_start_source(self) -> ServingState | None:
        """The served state, if its model can seed this refit (same settings, chain not too long)."""
        state = self.serving.state
        if state is None or self.warm_iterations <= 0 or not self.trainer.warm_starts:
            return None
        if state.snapshot.model.config != self.trainer.config:
            return None
        if state.snapshot.meta.get("warm_chain", 0) + 1 >= COLD_EVERY:
            return None
        return state
