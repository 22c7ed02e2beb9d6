"""The one way a model is fitted for serving: Last.fm plus members' likes, fitted, saved as a snapshot.

`fit_and_save` is the whole pipeline after the store has been read: merge the members' likes into the
Last.fm matrix, fit with the chosen trainer (optionally from an earlier snapshot's factors), and save
atomically. The bot's refits, `encore fit` and the test fixtures all go through it. It knows nothing
of the store: the caller passes what it read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from recommender.catalogue import ArtistCatalogue
from recommender.datasets import LastFmDataset, load_hetrec
from recommender.engine import LIKE_PLAYS
from recommender.interactions import Interactions
from recommender.merge import MemberPlays, merge_members
from recommender.models.registry import TRAINING_ENGINES, TrainingEngineError, make_trainer
from recommender.models.trainer import ImplicitTrainer, Trainer
from recommender.snapshot import Snapshot, SnapshotError, load_snapshot, save_snapshot

__all__ = [
    "TRAINING_ENGINES",
    "FitResult",
    "ImplicitTrainer",
    "LastFmData",
    "Trainer",
    "TrainingEngineError",
    "fit_and_save",
    "lastfm_interactions",
    "make_trainer",
]


def lastfm_interactions(dataset: LastFmDataset, exclude_users: Iterable[str] = ()) -> Interactions:
    interactions = Interactions.from_plays(dataset.plays)
    exclude_users = list(exclude_users)
    return interactions.without_users(exclude_users) if exclude_users else interactions


@dataclass(frozen=True)
class LastFmData:
    """The Last.fm data set as every entry point needs it: its catalogue and its play matrix."""

    dataset: LastFmDataset
    catalogue: ArtistCatalogue
    interactions: Interactions

    @property
    def fingerprint(self) -> str:
        return self.dataset.fingerprint

    @classmethod
    def load(cls, data_dir: Path) -> LastFmData:
        dataset = load_hetrec(data_dir)
        return cls(dataset, ArtistCatalogue.from_dataset(dataset), lastfm_interactions(dataset))

    def without_users(self, user_keys: Iterable[str]) -> LastFmData:
        """The same data with these Last.fm users' rows left out of the matrix (the catalogue stays)."""
        keys = list(user_keys)
        return replace(self, interactions=self.interactions.without_users(keys)) if keys else self


@dataclass(frozen=True)
class FitResult:
    snapshot: Snapshot
    #: Seconds spent merging the matrix, fitting, and saving and reloading the snapshot.
    build: float
    fit: float
    save: float


def fit_and_save(
    lastfm: Interactions,
    snapshot_dir: Path,
    *,
    data_fingerprint: str,
    trainer: Trainer,
    member_likes: Sequence[tuple[int, int, str, float | None]] | MemberPlays = (),
    member_artists: Sequence[tuple[int, str, str | None]] = (),
    like_plays: float = LIKE_PLAYS,
    store_revision: int | None = None,
    warm_start: Snapshot | None = None,
    warm_iterations: int | None = None,
) -> FitResult:
    """Fit Last.fm plus `member_likes` (as `store.likes.all_likes()` gives them, or already as
    `MemberPlays`) and save a snapshot.

    `warm_start`: an earlier snapshot whose factors seed the fit, run for `warm_iterations`.
    `store_revision`: the store revision the likes were read at; a snapshot without one (no store)
    says nothing about members, so a bot refits it when due.
    """
    started = time.perf_counter()
    if isinstance(member_likes, MemberPlays):
        members = member_likes
    else:
        members = MemberPlays.from_likes(list(member_likes), like_plays)
    interactions = merge_members(lastfm, members)
    initial = None
    if warm_start is not None:
        try:
            initial = warm_start.model.factors_for(
                warm_start.interactions.user_keys,
                warm_start.interactions.artist_ids,
                interactions.user_keys,
                interactions.artist_ids,
            )
        except SnapshotError:
            # Its user factors are read from its file, which a newer snapshot may have replaced: fit cold.
            warm_start = None
    build = time.perf_counter() - started

    started = time.perf_counter()
    iterations = warm_iterations if initial is not None and warm_iterations else trainer.config.iterations
    model = trainer.fit(interactions.plays, initial=initial, iterations=iterations)
    fit = time.perf_counter() - started

    started = time.perf_counter()
    meta = {
        "data_fingerprint": data_fingerprint,
        "members": int(np.unique(members.user_ids).size),
        "member_likes": int(members.user_ids.size),
        "fit_seconds": round(fit, 3),
        "trainer": trainer.name,
        "iterations": iterations,
        "warm_start_from": warm_start.version if warm_start is not None else None,
        "warm_chain": (warm_start.meta.get("warm_chain", 0) + 1) if warm_start is not None else 0,
        # Names of artists only members know, so the snapshot can be served without the store.
        "member_artists": [
            [int(i), str(n), u] for i, n, u in member_artists if interactions.artist_column(i) is not None
        ],
    }
    if store_revision is not None:
        meta["store_revision"] = store_revision
    snapshot = load_snapshot(save_snapshot(snapshot_dir, model, interactions, meta))
    return FitResult(snapshot, build, fit, time.perf_counter() - started)
