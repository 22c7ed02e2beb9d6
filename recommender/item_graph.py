"""An artist-to-artist graph of co-listening (RP3beta, Paudel et al. 2017), for listening sessions.

From a member's liked artists, a random walk goes to one of each artist's listeners, then to one of
that listener's artists; an artist's score is the probability of ending on it, divided by its number of
listeners to the power `beta` (so that what everyone plays does not win every walk). ALS sees a
member through 64 smooth factors; the graph sees which artists the same people actually play, so a
session's fresh Into it lifts that artist's own co-listened neighbours at once. Protocol P4
(benchmarks/README.md) measures the share the session gives it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

#: The popularity exponent; chosen on P4's seed 0 with the share in recommender/sessions.py.
BETA = 0.3
#: Listeners of a liked artist the walk follows at most (evenly spaced over them): on Last.fm's 1,892
#: users no artist has this many, and on a catalogue of 360,000 users it bounds the cost of a score.
MAX_LISTENERS = 1000


@dataclass(frozen=True)
class ItemGraph:
    #: Users x artists, 1 where the user plays the artist, by column: an artist's listeners.
    listeners_of: sp.csc_matrix
    #: Users x artists, each user's row divided by their number of artists: a step from a user.
    steps_from: sp.csr_matrix
    #: Per artist, its number of listeners (at least 1, so that dividing is safe).
    listeners: np.ndarray

    @classmethod
    def from_plays(cls, plays: sp.spmatrix) -> ItemGraph:
        played = sp.csr_matrix(plays, dtype=np.float64, copy=True)
        played.data = (played.data > 0).astype(np.float64)
        played.eliminate_zeros()
        artists_of = np.asarray(played.sum(axis=1)).ravel()
        artists_of[artists_of == 0] = 1.0
        steps = sp.csr_matrix(sp.diags(1.0 / artists_of) @ played)
        listeners = np.asarray(played.sum(axis=0)).ravel()
        listeners[listeners == 0] = 1.0
        return cls(played.tocsc(), steps, listeners)

    @property
    def n_items(self) -> int:
        return int(self.listeners.size)

    def scores(self, columns: np.ndarray, beta: float = BETA) -> np.ndarray:
        """Every artist's RP3beta score from the liked artist `columns` (all zero when none of them
        has a listener)."""
        return self.scores_of_many([columns], beta)[0]

    def scores_of_many(self, liked: Sequence[np.ndarray], beta: float = BETA) -> np.ndarray:
        """`scores` for several members at once (members x artists), in one sparse product."""
        pairs = [(member, np.unique(np.asarray(columns, dtype=np.int64))) for member, columns in enumerate(liked)]
        members = np.concatenate([np.full(columns.size, member) for member, columns in pairs] or [np.empty(0, int)])
        columns = np.concatenate([columns for _, columns in pairs] or [np.empty(0, int)]).astype(np.int64)
        indptr, indices = self.listeners_of.indptr, self.listeners_of.indices
        starts, counts = indptr[columns], indptr[columns + 1] - indptr[columns]
        capped = counts > MAX_LISTENERS
        # Every listener of every liked artist at once: position start + 0, 1, ..., count - 1 of each.
        kept = ~capped & (counts > 0)
        lengths = counts[kept]
        firsts = np.repeat(starts[kept] - (np.cumsum(lengths) - lengths), lengths)
        rows = [np.repeat(members[kept], lengths)]
        users = [indices[firsts + np.arange(int(lengths.sum()))]]
        weights = [np.repeat(1.0 / lengths, lengths)]
        for member, start, count in zip(members[capped], starts[capped], counts[capped]):
            spread = start + np.linspace(0, count - 1, MAX_LISTENERS).astype(np.int64)
            rows.append(np.full(MAX_LISTENERS, member))
            users.append(indices[spread])
            weights.append(np.full(MAX_LISTENERS, 1.0 / MAX_LISTENERS))
        shape = (len(liked), self.listeners_of.shape[0])
        # Duplicate (member, user) entries are summed: a listener of two liked artists walks twice.
        start_at = sp.csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(users))), shape=shape)
        walk = (start_at @ self.steps_from).toarray()
        return (walk * self._damping(beta)).astype(np.float32)

    def _damping(self, beta: float) -> np.ndarray:
        if beta == BETA:
            return self.default_damping
        return self.listeners**-beta

    @cached_property
    def default_damping(self) -> np.ndarray:
        return self.listeners**-BETA


_cache: tuple[weakref.ref, ItemGraph] | None = None
_lock = threading.Lock()


def graph_of(plays: sp.spmatrix) -> ItemGraph:
    """The graph of a training matrix, built once per matrix (the served engine's matrix changes only
    at a refit, which swaps in a new one)."""
    global _cache
    with _lock:
        if _cache is not None and _cache[0]() is plays:
            return _cache[1]
    graph = ItemGraph.from_plays(plays)
    with _lock:
        _cache = (weakref.ref(plays), graph)
    return graph
