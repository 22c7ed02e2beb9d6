"""A synthetic data set shaped like Last.fm-360K, for scale tests and benchmarks.

The real file (usersha1-artmbid-artname-plays.tsv) holds about 360,000 users, 160,000 artists (by
MusicBrainz id) and 17.5 M (user, artist) play counts. `generate` makes a matrix of that shape:

- artist popularity is Zipf-like: the artist of popularity rank k is drawn with probability
  proportional to (k + offset) ** -exponent; at full size (seed 0) the most popular artist has about
  41,000 listeners (Radiohead has about 77,000 in the real file) and the median artist about 27;
- users have a taste: each one leans towards one of `genres` groups of artists, so that the matrix has
  structure for ALS to find (a share `taste` of their artists comes from their group);
- the number of artists per user is log-normal (mean `pairs / users`, about 48.6, with a long right
  tail: median 41, 99th percentile 162), at least 1 per user;
- play counts follow a power law (Lomax / Pareto II): P(plays > x) = (1 + x / scale) ** -tail_index,
  1 at the least; with the defaults the median is about 60 and the mean about 200.

Every artist has at least one listener, so the shape is exact: `users` x `artists` with `pairs`
stored entries. Everything is vectorised numpy and deterministic given `seed`; the full size takes
about 10 s on one core and about 1.3 GB at its peak.

`write_lastfm_360k_tsv` writes the matrix in the real file's format (user-sha1, artist-mbid,
artist-name, plays), which `recommender.lastfm360k.read_lastfm_360k` reads back.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.interactions import Interactions, lastfm_user_key

__all__ = [
    "SyntheticConfig",
    "LASTFM_360K",
    "generate",
    "artist_name",
    "artist_mbid",
    "user_sha1",
    "write_lastfm_360k_tsv",
]

#: Ids of synthetic artists start here, so they never collide with the real HetRec artist ids.
FIRST_ARTIST_ID = 1_000_000


@dataclass(frozen=True)
class SyntheticConfig:
    users: int = 360_000
    artists: int = 160_000
    pairs: int = 17_500_000
    #: Zipf exponent and rank offset of artist popularity.
    popularity_exponent: float = 1.2
    popularity_offset: float = 50.0
    #: Spread (sigma of the log) of the number of artists per user; the mean is pairs / users.
    count_sigma: float = 0.6
    #: Upper bound on one user's artists, as a share of all artists (the draws must stay distinct).
    max_user_share: float = 0.25
    #: Play counts: Lomax tail index and scale.
    plays_tail_index: float = 1.5
    plays_scale: float = 100.0
    max_plays: int = 1_000_000
    genres: int = 50
    taste: float = 0.5
    seed: int = 0


LASTFM_360K = SyntheticConfig()


def generate(
    users: int = LASTFM_360K.users,
    artists: int = LASTFM_360K.artists,
    pairs: int = LASTFM_360K.pairs,
    seed: int = 0,
    **options,
) -> Interactions:
    """Users x artists play counts shaped like Last.fm-360K (see the module's docstring).

    Users are keyed "lastfm:0" … "lastfm:{users - 1}" like real Last.fm rows; artist ids are
    FIRST_ARTIST_ID + column, so sorted. `options` are further `SyntheticConfig` fields.
    """
    config = SyntheticConfig(users=users, artists=artists, pairs=pairs, seed=seed, **options)
    return generate_from(config)


def generate_from(config: SyntheticConfig) -> Interactions:
    n_users, n_artists, n_pairs = config.users, config.artists, config.pairs
    if n_users < 1 or n_artists < 1:
        raise ValueError("users and artists must be >= 1")
    max_per_user = max(1, int(n_artists * config.max_user_share))
    if not max(n_users, n_artists) <= n_pairs <= n_users * max_per_user:
        raise ValueError(
            f"pairs must be between max(users, artists) = {max(n_users, n_artists)} and "
            f"users x {max_per_user} = {n_users * max_per_user}"
        )
    rng = np.random.default_rng(config.seed)

    counts = _user_counts(rng, config, max_per_user)
    # Popularity rank -> column, shuffled so that popular artists are spread over the columns.
    column_of_rank = rng.permutation(n_artists).astype(np.int64)
    genre_of_user = rng.integers(0, config.genres, size=n_users)
    sampler = _ArtistSampler(config, column_of_rank, genre_of_user)

    # Every artist gets one listener first (so no column is empty), then users draw the rest of
    # their artists by popularity. Repeated (user, artist) pairs are dropped and drawn again.
    seed_users = _users_for_seed_pairs(rng, counts, n_artists)
    codes = _sorted_unique(seed_users * n_artists + np.arange(n_artists, dtype=np.int64))
    have = np.bincount(seed_users, minlength=n_users)
    for _ in range(1000):
        missing = counts - have
        if not missing.any():
            break
        users = np.repeat(np.arange(n_users, dtype=np.int64), missing)
        new = _sorted_unique(users * n_artists + sampler.draw(rng, users))
        if codes.size:
            position = np.minimum(np.searchsorted(codes, new), codes.size - 1)
            new = new[codes[position] != new]
        codes = _merge_sorted(codes, new)  # sorted and unique: users in order, then artists
        have += np.bincount(new // n_artists, minlength=n_users)
    else:  # pragma: no cover - needs an absurd configuration
        raise RuntimeError("could not draw distinct artists; lower max_user_share")

    rows = codes // n_artists
    columns = (codes - rows * n_artists).astype(np.int32)
    del codes
    plays = _play_counts(rng, config, columns.size)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_users), out=indptr[1:])
    matrix = sp.csr_matrix((plays, columns, indptr.astype(np.int32)), shape=(n_users, n_artists))
    keys = np.array([lastfm_user_key(u) for u in range(n_users)])
    artist_ids = FIRST_ARTIST_ID + np.arange(n_artists, dtype=np.int64)
    return Interactions(user_keys=keys, artist_ids=artist_ids, plays=matrix)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.sort and a mask: np.unique is many times slower on tens of millions of int64 (numpy 2.4).
    values = np.sort(values)
    if values.size:
        keep = np.empty(values.size, dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values


def _merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted arrays with no value in common, merged into one sorted array."""
    if not b.size:
        return a
    out = np.empty(a.size + b.size, dtype=a.dtype)
    # Each element's place: its own index plus how many of the other array come before it.
    b_places = np.searchsorted(a, b) + np.arange(b.size)
    taken = np.zeros(out.size, dtype=bool)
    taken[b_places] = True
    out[b_places] = b
    out[~taken] = a
    return out


def _user_counts(rng: np.random.Generator, config: SyntheticConfig, max_per_user: int) -> np.ndarray:
    """Artists per user: log-normal with mean pairs / users, in [1, max_per_user], summing to pairs."""
    n_users, n_pairs = config.users, config.pairs
    sigma = config.count_sigma
    raw = rng.lognormal(mean=-sigma * sigma / 2.0, sigma=sigma, size=n_users)  # mean 1
    counts = np.ones(n_users, dtype=np.int64)
    # Scale to the total, then hand out what rounding and the bounds left over (largest remainders
    # first), repeating while the bounds clip; converges in a few rounds.
    for _ in range(100):
        remaining = n_pairs - int(counts.sum())
        if remaining == 0:
            break
        free = (counts < max_per_user) if remaining > 0 else (counts > 1)
        weights = np.where(free, raw, 0.0)
        share = weights / weights.sum() * abs(remaining)
        step = np.floor(share).astype(np.int64)
        leftover = abs(remaining) - int(step.sum())
        if leftover:
            fraction = np.where(free, share - step, -1.0)
            step[np.argpartition(-fraction, leftover - 1)[:leftover]] += 1
        counts = np.clip(counts + np.sign(remaining) * step, 1, max_per_user)
    if counts.sum() != n_pairs:  # pragma: no cover - guarded by the bounds check in generate
        raise RuntimeError("could not spread the pairs over the users")
    return counts


def _users_for_seed_pairs(rng: np.random.Generator, counts: np.ndarray, n_artists: int) -> np.ndarray:
    """One user per artist, drawn in proportion to how many artists each user will have, never
    more artists per user than their count."""
    slots = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    return slots[rng.choice(slots.size, size=n_artists, replace=False)]


class _ArtistSampler:
    """Draws artist columns by Zipf-like popularity, half of them (`taste`) within a user's genre."""

    def __init__(self, config: SyntheticConfig, column_of_rank: np.ndarray, genre_of_user: np.ndarray) -> None:
        n = column_of_rank.size
        self.column_of_rank = column_of_rank
        self.genre_of_user = genre_of_user
        self.taste = config.taste if n >= config.genres else 0.0
        self.genres = max(1, min(config.genres, n))
        ranks = np.arange(1, n + 1, dtype=np.float64)
        self.global_cdf = _cdf((ranks + config.popularity_offset) ** -config.popularity_exponent)
        # Genre g holds the artists of global rank g, g + G, g + 2G, …; the same Zipf shape within.
        self.per_genre = n // self.genres
        local = np.arange(1, self.per_genre + 1, dtype=np.float64)
        self.genre_cdf = _cdf((local + config.popularity_offset) ** -config.popularity_exponent)

    def draw(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        size = users.size
        rank = np.searchsorted(self.global_cdf, rng.random(size), side="right")
        if self.taste > 0:
            in_genre = rng.random(size) < self.taste
            local = np.searchsorted(self.genre_cdf, rng.random(int(in_genre.sum())), side="right")
            rank[in_genre] = local * self.genres + self.genre_of_user[users[in_genre]]
        np.minimum(rank, self.column_of_rank.size - 1, out=rank)
        return self.column_of_rank[rank]


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return cdf


def _play_counts(rng: np.random.Generator, config: SyntheticConfig, size: int) -> np.ndarray:
    """Lomax (Pareto II) play counts, at least 1, at most max_plays."""
    u = 1.0 - rng.random(size)  # (0, 1]
    plays = 1.0 + np.floor(config.plays_scale * (u ** (-1.0 / config.plays_tail_index) - 1.0))
    return np.minimum(plays, config.max_plays).astype(np.float32)


# -- the Last.fm-360K file format -----------------------------------------------------------------


def user_sha1(key: str) -> str:
    """A sha1-looking user id for a user key, as in the real file's first column."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def artist_name(artist_id: int) -> str:
    return f"synthetic artist {int(artist_id)}"


def artist_mbid(artist_id: int) -> str:
    """A MusicBrainz-looking id; every tenth artist has none (an empty field), as in the real file."""
    artist_id = int(artist_id)
    if artist_id % 10 == 0:
        return ""
    return str(uuid.UUID(bytes=hashlib.md5(str(artist_id).encode()).digest(), version=4))


def write_lastfm_360k_tsv(interactions: Interactions, path: Path | str, rows_per_chunk: int = 1_000_000) -> Path:
    """Write `interactions` as a Last.fm-360K TSV: user-sha1, artist-mbid, artist-name, plays; no header.

    Plays are written as integers (they are whole numbers in a generated matrix).
    """
    path = Path(path)
    plays = sp.csr_matrix(interactions.plays)
    users = np.array([user_sha1(str(k)) for k in interactions.user_keys], dtype=object)
    # One "mbid<TAB>name" string per column, built once.
    artists = np.array([f"{artist_mbid(a)}\t{artist_name(a)}" for a in interactions.artist_ids.tolist()], dtype=object)
    row_of_entry = np.repeat(np.arange(plays.shape[0], dtype=np.int64), np.diff(plays.indptr))
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for start in range(0, plays.nnz, rows_per_chunk):
            stop = min(start + rows_per_chunk, plays.nnz)
            counts = np.rint(plays.data[start:stop]).astype(np.int64).astype(str).astype(object)
            lines = users[row_of_entry[start:stop]] + "\t" + artists[plays.indices[start:stop]] + "\t" + counts + "\n"
            handle.write("".join(lines.tolist()))
    return path
