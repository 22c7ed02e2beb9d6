"""One member's top n without scoring every artist: exact, by bounding what each artist can score.

A recommendation ranks every artist by u . v (the member's vector u, the artist's factors v), less the
popularity penalty of recommender/debias.py when one is asked for. At Last.fm-360K scale the dense
pass over 160,000 x 64 float32 factors (41 MB, memory-bound) is most of a request, yet few artists can
reach a member's top ten: by Cauchy-Schwarz u . v <= |u| |v|, and large factor norms are rare.

`PrunedTopN` keeps a copy of the factors with the artists in bins of popularity and, within a bin, by
decreasing norm, so that the artists of a bin that could still beat a score form a prefix of it. A
request scores the artists of the largest norms, takes the n-th best of what it has, then scores,
bin by bin, every artist whose bound |u| |v| (1 + rounding) - penalty * best * (least popularity of
its bin) reaches that, and looks again, until nothing unscored can enter the top n. The penalty is
scaled by the row's best score over every artist (the member's own likes too), so with a penalty the
best score is settled first, the same way (nothing whose |u| |v| is below the best found can be it).
On the synthetic 360K model a request scores about 1,000 of the 160,200 artists (p99 6,500) without
a penalty, about 4,500 (p99 12,000) with the bot's 0.5.

The answer is the dense path's (`top_n(rerank(item_factors @ u, ...), n, exclude=row)`) bit for bit:
scores, order and ties (lower column first). Bins are scored with the same BLAS matrix-vector product
as the dense pass, in blocks of whole ROW_GROUPs of rows, and the dense pass's own last
(n_items % ROW_GROUP) rows as one block, which OpenBLAS scores exactly as in the one big product (its
kernels take rows a few at a time, each row's sum in the same order). `build` checks that on random
vectors and gives up (None: use the dense path) if this BLAS, or its threading, does otherwise.
`top` also returns None wherever `top_n` would not take its one-row path (whose tie order this
reproduces), so the caller takes the dense path there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.ranking import SAMPLE_STRIDE

#: Blocks of rows are whole multiples of this: OpenBLAS's sgemv kernels score rows in groups (4 on
#: Haswell; a row scored in a partial group at a block's end can differ in the last bit).
ROW_GROUP = 16
#: Popularity bins: BINS of equal numbers of artists, each split further so that none spans more
#: than BIN_WIDTH of popularity (the penalty bound uses a bin's least popularity, so a wide bin bounds
#: loosely exactly where a heavy penalty decides). More bins bound tighter but cost a product call
#: each per round: of 16-64 bins and widths 0.02-0.05 (or no width: twice as slow at p99 with a penalty),
#: all within 10 % of each other on the synthetic 360K model, these were the quickest.
BINS = 8
BIN_WIDTH = 0.05
#: The first round scores about this many artists of the largest norms, and with a penalty also the
#: LEAST_POPULAR least popular ones.
FIRST_ROUND = 512
LEAST_POPULAR = 256


@dataclass(frozen=True)
class PrunedTop:
    """One row's top n: artist columns best first, their ranking scores and their model scores."""

    columns: np.ndarray
    ranking_scores: np.ndarray
    scores: np.ndarray
    #: How many artists were scored (of `n_items`), for measurements.
    scored: int


class PrunedTopN:
    """The top n of one member's (penalised) scores, from scoring only the artists that can reach it.

    Built once per model and popularity (about 0.15 s and a 41 MB copy of the factors at 160K x 64);
    read-only afterwards, so requests may share it across threads."""

    def __init__(
        self, item_factors: np.ndarray, popularity: np.ndarray, bins: int = BINS, width: float = BIN_WIDTH
    ) -> None:
        """Prefer `build`, which also checks that this BLAS scores blocks as it scores the whole."""
        factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        n_items, self.n_factors = factors.shape
        self.n_items = n_items
        self.item_factors = factors
        # Exactly the float32 popularity `rerank` subtracts.
        self.popularity32 = np.asarray(popularity, dtype=np.float32)
        if self.popularity32.shape != (n_items,):
            raise ValueError("one popularity per artist is needed")
        norms = np.linalg.norm(factors.astype(np.float64), axis=1)
        # The dense product ends on a partial row group; those last rows stay a block of their own.
        body = n_items - n_items % ROW_GROUP
        by_popularity = np.argsort(self.popularity32[:body], kind="stable")
        edges = _bin_edges(self.popularity32[by_popularity].astype(np.float64), bins, width)
        order = [
            by_popularity[lo:hi][np.argsort(-norms[by_popularity[lo:hi]], kind="stable")]  # largest norm first
            for lo, hi in zip(edges[:-1], edges[1:])
        ]
        order.append(np.arange(body, n_items))
        order = np.concatenate(order).astype(np.int64)
        self.starts = edges  # bin b is rows starts[b]:starts[b + 1] of the binned order
        self.sizes = np.diff(edges)
        self.tail = (body, n_items)
        self.columns = order
        self.factors = np.ascontiguousarray(factors[order])
        self.norms = norms[order]
        self.popularity_in_order = self.popularity32[order]
        self.bin_min_popularity = np.array(
            [float(self.popularity_in_order[a:z].min()) for a, z in zip(edges[:-1], edges[1:])]
        )
        self.position = np.empty(n_items, dtype=np.int64)
        self.position[order] = np.arange(n_items)
        self.arange = np.arange(n_items, dtype=np.int64)
        self.max_norm = float(norms.max()) if n_items else 0.0
        # One sorted key for every group of rows of the bins, from its first (largest) norm: bin b's
        # groups are b * spread + (max_norm - norm), so that one searchsorted finds how many groups of
        # each bin reach a norm (`_reaching`).
        spread = 2.0 * self.max_norm + 2.0
        self._keys = np.repeat(np.arange(self.sizes.size), self.sizes // ROW_GROUP) * spread + (
            self.max_norm - self.norms[:body:ROW_GROUP]
        )
        self._key_offsets = np.arange(self.sizes.size) * spread
        self._group_starts = edges[:-1] // ROW_GROUP
        self._key_margin = 1e-9 * spread * max(1, self.sizes.size)
        # |fl(u . v) - u . v| <= k eps |u| |v| whatever the order of the sums; twice that, to be safe.
        self.relative_error = 2.0 * self.n_factors * float(np.finfo(np.float32).eps)
        # First rounds: the largest norms (what scores highest), and with a penalty also the least
        # popular artists (what a heavy penalty ranks first when the scores are all small).
        first = min(body, FIRST_ROUND)
        first_norm = float(np.partition(norms[:body], body - first)[body - first]) if first else np.inf
        self._first = self._reaching(np.full(self.sizes.size, first_norm))
        self._first_penalised = np.maximum(self._first, np.clip(LEAST_POPULAR - edges[:-1], 0, self.sizes))

    @classmethod
    def build(
        cls,
        item_factors: np.ndarray,
        popularity: np.ndarray,
        bins: int = BINS,
        width: float = BIN_WIDTH,
        checks: int = 3,
        seed: int = 0,
    ) -> PrunedTopN | None:
        """A pruned scorer, or None when this BLAS does not score blocks of rows exactly as it scores
        the whole matrix (then only the dense path gives the dense path's scores) or the factors are
        not all finite."""
        scorer = cls(item_factors, popularity, bins, width)
        if not np.all(np.isfinite(scorer.factors)) or not np.all(np.isfinite(scorer.popularity32)):
            return None
        rng = np.random.default_rng(seed)
        for _ in range(checks):
            vector = rng.standard_normal(scorer.n_factors).astype(np.float32)
            dense = scorer.item_factors @ vector
            # Every bin in pieces of random lengths (whole groups), as requests score them.
            blocks = np.empty(scorer.n_items, dtype=np.float32)
            for start, size in zip(scorer.starts[:-1].tolist(), scorer.sizes.tolist()):
                cuts = np.sort(rng.integers(0, size // ROW_GROUP + 1, size=3)) * ROW_GROUP
                for a, z in zip([0, *cuts.tolist()], [*cuts.tolist(), size]):
                    scorer._score(vector, blocks, start + a, start + z)
            scorer._score(vector, blocks, *scorer.tail)
            if not np.array_equal(blocks, dense[scorer.columns]):
                return None
        return scorer

    # -- scoring --------------------------------------------------------------------------------

    def _score(self, vector: np.ndarray, out: np.ndarray, start: int, stop: int) -> None:
        if stop > start:
            np.matmul(self.factors[start:stop], vector, out=out[start:stop])

    def _extend(self, vector: np.ndarray, out: np.ndarray, done: np.ndarray, wanted: np.ndarray, scored: list) -> None:
        """Score each bin up to `wanted` rows (rounded up to whole groups); `done` is updated and the
        newly scored rows' positions appended to `scored`."""
        for b in np.flatnonzero(wanted > done).tolist():
            start = int(self.starts[b])
            upto = min(int(self.sizes[b]), -(-int(wanted[b]) // ROW_GROUP) * ROW_GROUP)
            self._score(vector, out, start + int(done[b]), start + upto)
            scored.append(self.arange[start + int(done[b]) : start + upto])
            done[b] = upto

    def _reaching(self, floors: np.ndarray) -> np.ndarray:
        """How many rows of each bin have a norm >= its floor (`floors[..., b]`), rounded up to whole
        groups of rows: a prefix of the bin. Never fewer than exactly (a hair more where norms tie)."""
        # A floor above every norm lands before the bin's keys, one below every norm after them: the
        # counts are clamped to the bin either way.
        ends = np.searchsorted(
            self._keys, self._key_offsets + (self.max_norm + self._key_margin - floors), side="right"
        )
        return np.minimum(np.maximum(ends - self._group_starts, 0) * ROW_GROUP, self.sizes)

    def top(self, vector: np.ndarray, n: int, excluded: np.ndarray, penalty: float = 0.0) -> PrunedTop | None:
        """`top_n(rerank(item_factors @ vector, popularity, penalty), n, exclude=...)` for one row whose
        excluded columns are `excluded`, or None where the caller should take the dense path."""
        if penalty < 0:
            raise ValueError("the popularity penalty must be >= 0")
        vector = np.asarray(vector, dtype=np.float32)
        excluded = np.asarray(excluded, dtype=np.int64)
        n_items = self.n_items
        n = max(0, min(int(n), n_items))
        # Only where top_n takes its one-row path, whose ties (lower column first) this reproduces.
        if n == 0 or n * SAMPLE_STRIDE * 4 > n_items:
            return None
        sampled = -(-n_items // SAMPLE_STRIDE)
        if sampled - np.unique(excluded[excluded % SAMPLE_STRIDE == 0]).size < n:
            return None
        if not np.all(np.isfinite(vector)):
            return None
        vector_norm = float(np.linalg.norm(vector.astype(np.float64)))
        if vector_norm == 0.0:
            return None
        grow = vector_norm * (1.0 + self.relative_error)  # a computed score is at most grow * |v|

        scores = np.empty(n_items, dtype=np.float32)
        done = np.zeros(self.sizes.size, dtype=np.int64)
        scored: list[np.ndarray] = [self.arange[self.tail[0] : self.tail[1]]]
        self._score(vector, scores, *self.tail)
        self._extend(vector, scores, done, self._first_penalised if penalty > 0 else self._first, scored)

        scale = None
        c = 0.0
        if penalty > 0:
            # rerank's scale: the best score over every artist. Nothing below the best found yet can be it.
            rows = np.concatenate(scored)
            best = float(scores[rows].max())
            if best <= 0:
                return None
            self._extend(vector, scores, done, self._reaching(np.full(done.size, best / grow)), scored)
            rows = np.concatenate(scored)
            scale = np.max(scores[rows], keepdims=True)  # float32, as in rerank
            c = float((penalty * scale)[0])
        slack = 2.0**-22 * (grow * self.max_norm + c)  # rounding of s - c * popularity

        def wanted_above(threshold: float | np.ndarray) -> np.ndarray:
            # A row can reach `threshold` only if grow |v| - c * (least popularity of its bin) + slack does.
            threshold = np.asarray(threshold, dtype=np.float64)[..., None]
            return self._reaching((threshold + c * self.bin_min_popularity - slack) / grow)

        is_excluded = np.zeros(n_items, dtype=bool)
        is_excluded[self.position[excluded[(excluded >= 0) & (excluded < n_items)]]] = True
        rows = np.concatenate(scored)
        ranked = self._ranked(scores[rows], rows, scale, penalty)
        ranked[is_excluded[rows]] = -np.inf
        while True:
            eligible = int(np.count_nonzero(np.isfinite(ranked)))
            if eligible >= n:
                threshold = float(np.partition(ranked, ranked.size - n)[ranked.size - n])
                wanted = np.minimum(wanted_above(threshold), self.sizes)
                if np.all(wanted <= done):
                    break  # every row that could reach the n-th best has been scored
            else:  # too few eligible yet: twice as deep everywhere
                wanted = np.minimum(np.maximum(2 * done, ROW_GROUP), self.sizes)
                if np.all(wanted <= done):
                    break
            before = len(scored)
            self._extend(vector, scores, done, wanted, scored)
            new = np.concatenate(scored[before:])
            new_ranked = self._ranked(scores[new], new, scale, penalty)
            new_ranked[is_excluded[new]] = -np.inf
            rows = np.concatenate([rows, new])
            ranked = np.concatenate([ranked, new_ranked])
        if eligible < n:  # cannot happen after the sample check above; the dense path pads
            return None

        keep = ranked >= threshold
        rows, ranked = rows[keep], ranked[keep]
        columns = self.columns[rows]
        order = np.lexsort((columns, -ranked))[:n]
        rows, columns, ranked = rows[order], columns[order], ranked[order]
        return PrunedTop(
            columns=columns,
            ranking_scores=ranked,
            scores=scores[rows],
            scored=int(done.sum()) + self.tail[1] - self.tail[0],
        )

    def _ranked(self, scores: np.ndarray, rows: np.ndarray, scale: np.ndarray | None, penalty: float) -> np.ndarray:
        """rerank's arithmetic, column by column: scores - penalty * scale * popularity, in float32."""
        if scale is None:
            return scores.copy()
        return (scores - penalty * scale * self.popularity_in_order[rows]).astype(np.float32, copy=False)


def _bin_edges(popularity: np.ndarray, bins: int, width: float) -> np.ndarray:
    """Bin edges over `popularity` sorted ascending (a multiple of ROW_GROUP long): `bins` quantiles,
    split wherever a bin would span more than `width`; every edge a multiple of ROW_GROUP."""
    size = popularity.size
    if size == 0:
        return np.zeros(1, dtype=np.int64)
    quantile = np.minimum((np.arange(size) * max(1, bins)) // size, max(1, bins) - 1)
    edges = np.flatnonzero(np.diff(quantile)) + 1
    low_of = popularity[np.concatenate([[0], edges])][quantile]  # each quantile's least popularity
    step = np.floor((popularity - low_of) / width).astype(np.int64) if width > 0 else np.zeros(size, dtype=np.int64)
    key = quantile.astype(np.int64) * (int(step.max()) + 1) + step
    cuts = np.flatnonzero(np.diff(key)) + 1
    cuts = np.unique(np.round(cuts / ROW_GROUP).astype(np.int64) * ROW_GROUP)
    return np.unique(np.concatenate([[0], cuts[(cuts > 0) & (cuts < size)], [size]])).astype(np.int64)
