"""Comparing two listeners' tastes, and a listener's genres: the math behind /taste, /neighbours, /genres.

Compatibility is the cosine of two users' vectors in the model's factor space (their exact solves,
`ALSRecommender.solve`). A raw cosine means little on its own: with strong regularisation every
vector leans towards the popular artists, so even strangers score well above 0. It is therefore
*calibrated*: reported as the share of random pairs of Last.fm listeners that are less alike
("more alike than 87 % of pairs of listeners").

Genres are the catalogue's top tags of the artists a member likes: each artist spreads one unit of
weight over its top tags (the first tag counting most), and the shares are summed over the artists.
Tags that describe the listener rather than the music ("seen live", "favorites") are left out.
Nothing here knows about Discord or SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.catalogue import ArtistCatalogue
from recommender.engine import Engine
from recommender.interactions import LASTFM_USER_PREFIX
from recommender.tags import is_music_type

#: Last.fm listeners solved for the calibration; every pair among them is one sample
#: (800 listeners: 319,600 pairs, computed once per served model).
CALIBRATION_USERS = 800
#: Tags per artist that count towards a genre profile.
TAGS_PER_ARTIST = 5

#: (lowest percentile, words), checked from the top.
_WORDS = (
    (0.95, "remarkably similar taste"),
    (0.80, "very similar taste"),
    (0.60, "fairly similar taste"),
    (0.40, "about as alike as any two listeners"),
    (0.20, "rather different tastes"),
    (0.0, "very different tastes"),
)


@dataclass(frozen=True)
class Compatibility:
    """How alike two tastes are: the raw cosine, and the share of random pairs less alike."""

    similarity: float
    percentile: float

    @property
    def words(self) -> str:
        return describe_percentile(self.percentile)

    @property
    def percent(self) -> int:
        """The percentile as a whole percentage, for display (never 100 unless truly at the top)."""
        return int(np.floor(self.percentile * 100))


def describe_percentile(percentile: float) -> str:
    for bar, words in _WORDS:
        if percentile >= bar:
            return words
    return _WORDS[-1][1]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two vectors; 0 when either is all zeros."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norms) if norms > 0 else 0.0


def cosines_to(vector: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Cosine of `vector` with each row of `others` (0 for zero rows)."""
    vector = np.asarray(vector, dtype=np.float64)
    others = np.atleast_2d(np.asarray(others, dtype=np.float64))
    norms = np.linalg.norm(others, axis=1) * np.linalg.norm(vector)
    dots = others @ vector
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


class PairCalibration:
    """The cosines of many random pairs of listeners, sorted: a similarity's percentile among them."""

    def __init__(self, pair_similarities: np.ndarray) -> None:
        values = np.sort(np.asarray(pair_similarities, dtype=np.float64).ravel())
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError("a calibration needs at least one pair")
        self.similarities = values

    @classmethod
    def from_vectors(cls, vectors: np.ndarray) -> PairCalibration:
        """Every pair of distinct rows of `vectors` (zero rows are left out)."""
        vectors = np.asarray(vectors, dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1)
        unit = vectors[norms > 0] / norms[norms > 0, None]
        if unit.shape[0] < 2:
            raise ValueError("a calibration needs at least two non-zero vectors")
        upper = np.triu_indices(unit.shape[0], k=1)
        return cls((unit @ unit.T)[upper])

    def __len__(self) -> int:
        return self.similarities.size

    def percentile(self, similarity: float) -> float:
        """Share of the pairs strictly less alike than `similarity`, plus half the ties, in [0, 1]."""
        below = np.searchsorted(self.similarities, similarity, side="left")
        upto = np.searchsorted(self.similarities, similarity, side="right")
        return float((below + upto) / 2 / self.similarities.size)

    def compatibility(self, a: np.ndarray, b: np.ndarray) -> Compatibility:
        similarity = cosine(a, b)
        return Compatibility(similarity, self.percentile(similarity))


def calibrate(engine: Engine, users: int = CALIBRATION_USERS, seed: int = 0) -> PairCalibration:
    """A calibration from `users` Last.fm listeners of the engine's matrix, solved exactly as members are."""
    keys = engine.interactions.user_keys.astype(str)
    rows = np.flatnonzero(np.char.startswith(keys, LASTFM_USER_PREFIX))
    if rows.size < 2:
        rows = np.arange(keys.size)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(rows, size=min(users, rows.size), replace=False))
    vectors = engine.model.user_vectors(engine.interactions.plays[chosen])
    return PairCalibration.from_vectors(vectors)


def genre_profile(
    catalogue: ArtistCatalogue,
    artist_ids: Iterable[int],
    weights: Sequence[float] | None = None,
    tags_per_artist: int = TAGS_PER_ARTIST,
) -> list[tuple[str, float]]:
    """(genre, share) best first, the shares summing to 1; empty when no artist has a tag.

    Each artist (times its weight, default 1) spreads one unit over its first `tags_per_artist`
    genre tags in proportion 1/(rank + 1), so its first tag counts most. Unknown artists are skipped.
    """
    ids = list(artist_ids)
    if weights is not None and len(weights) != len(ids):
        raise ValueError("weights must have one entry per artist")
    totals: dict[str, float] = {}
    for i, artist_id in enumerate(ids):
        if artist_id not in catalogue:
            continue
        # A catalogue built from the data set holds cleaned types already; one built from raw tags may not.
        tags = [t for t in catalogue.top_tags(artist_id, 2 * tags_per_artist) if is_music_type(t)][:tags_per_artist]
        if not tags:
            continue
        weight = 1.0 if weights is None else float(weights[i])
        ranks = 1.0 / np.arange(1, len(tags) + 1)
        ranks = ranks / ranks.sum() * weight
        for tag, share in zip(tags, ranks):
            totals[tag] = totals.get(tag, 0.0) + float(share)
    total = sum(totals.values())
    if total <= 0:
        return []
    return sorted(((tag, value / total) for tag, value in totals.items()), key=lambda item: (-item[1], item[0]))


def side_by_side(
    a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]], n: int = 8
) -> list[tuple[str, float, float]]:
    """The `n` genres that matter most to the two profiles together: (genre, share for a, share for b),
    ordered by the two shares summed (for a mirrored chart)."""
    left, right = dict(a), dict(b)
    genres = sorted(set(left) | set(right), key=lambda g: (-(left.get(g, 0.0) + right.get(g, 0.0)), g))
    return [(g, left.get(g, 0.0), right.get(g, 0.0)) for g in genres[:n]]
