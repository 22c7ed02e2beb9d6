"""Factors for an artist the model has never seen, placed from similar artists it knows.

An artist newer than the data (or added by a member) has no column until a refit learns it from likes.
Last.fm can still say which known artists it resembles, and how much (its "match", 0 to 1). Its item
factors are then the match-weighted mean of theirs: in the model's space it sits among them, so a member
who likes them is recommended it, and its score splits into shares per liked artist like any other's.

A mean of vectors that point apart is shorter than each of them, which would rank the placed artist
below every neighbour for a member who likes them all; it is scaled back to the neighbours' own
match-weighted length. The engine that serves placed artists is a copy of the fitted one with a column
appended per artist (no listeners, so no plays): a refit that sees the artist's likes learns it instead,
and placing again over that model leaves it alone (`place`, `with_placed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.engine import Engine
from recommender.interactions import Interactions

__all__ = ["MIN_NEIGHBOURS", "Neighbour", "Placed", "place", "placed_factors", "with_placed"]

#: With fewer known neighbours than this, a placement says too little about the artist to serve it.
MIN_NEIGHBOURS = 1


@dataclass(frozen=True)
class Neighbour:
    """A known artist like the placed one, and how alike (Last.fm's match, above 0)."""

    artist_id: int
    match: float


@dataclass(frozen=True)
class Placed:
    """What `with_placed` did: the engine serving the placed artists, and which were placed from whom."""

    engine: Engine
    #: Placed artist id -> the neighbours the model knew, best match first.
    placed: dict[int, tuple[Neighbour, ...]]


def placed_factors(item_factors: np.ndarray, columns: Sequence[int], weights: Sequence[float]) -> np.ndarray:
    """The weighted mean of the rows `columns` of `item_factors`, scaled to their weighted mean length."""
    columns = np.asarray(columns, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if columns.size == 0 or columns.size != weights.size or not np.all(weights > 0):
        raise ValueError("give one positive weight per neighbour, and at least one neighbour")
    rows = item_factors[columns].astype(np.float64)
    weights = weights / weights.sum()
    mean = weights @ rows
    length = float(np.linalg.norm(mean))
    if length == 0.0:
        return mean.astype(np.float32)
    typical = float(weights @ np.linalg.norm(rows, axis=1))
    return (mean * (typical / length)).astype(np.float32)


def place(engine: Engine, neighbours: Iterable[Neighbour]) -> tuple[np.ndarray, tuple[Neighbour, ...]] | None:
    """Factors for an artist like `neighbours` in `engine`'s model, and the neighbours it knew (best
    first); None when it knows fewer than `MIN_NEIGHBOURS` of them."""
    known: dict[int, Neighbour] = {}
    for neighbour in neighbours:
        column = engine.interactions.artist_column(neighbour.artist_id)
        if column is not None and neighbour.match > 0 and column not in known:
            known[column] = neighbour
    if len(known) < MIN_NEIGHBOURS:
        return None
    ordered = sorted(known.items(), key=lambda cn: -cn[1].match)
    factors = placed_factors(engine.model.item_factors, [c for c, _ in ordered], [n.match for _, n in ordered])
    return factors, tuple(n for _, n in ordered)


def with_placed(engine: Engine, placements: Mapping[int, Sequence[Neighbour]]) -> Placed:
    """`engine` with a column for each artist of `placements` (artist id -> its neighbours) that it
    lacks and can place; artists it already has (learned by a refit) keep their fitted factors.

    The fitted model and matrix are not changed: the engine returned holds copies with the columns
    appended, so one being served stays whole. Costs one pass over the artist factors.
    """
    new_ids: list[int] = []
    new_rows: list[np.ndarray] = []
    placed: dict[int, tuple[Neighbour, ...]] = {}
    for artist_id, neighbours in placements.items():
        if engine.interactions.artist_column(artist_id) is not None:
            continue
        found = place(engine, neighbours)
        if found is not None:
            new_ids.append(int(artist_id))
            new_rows.append(found[0])
            placed[int(artist_id)] = found[1]
    if not new_ids:
        return Placed(engine, placed)
    widened_model = engine.model.with_items(np.stack(new_rows))
    interactions = engine.interactions
    plays = sp.csr_matrix(interactions.plays)
    widened = Interactions(
        user_keys=interactions.user_keys,
        artist_ids=np.concatenate([interactions.artist_ids, np.array(new_ids, dtype=np.int64)]),
        plays=sp.csr_matrix(
            (plays.data, plays.indices, plays.indptr), shape=(plays.shape[0], plays.shape[1] + len(new_ids))
        ),
    )
    served = Engine(widened_model, widened, engine.catalogue, engine.like_plays, engine.popularity_penalty)
    served.pruned_from_artists = engine.pruned_from_artists
    return Placed(served, placed)
