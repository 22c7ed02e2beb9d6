"""Artist catalogue: exact lookup, autocomplete search, URLs and top tags (music types) by artist."""

from __future__ import annotations

import bisect
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from recommender.datasets import LastFmDataset
from recommender.tags import build_vocabulary, tag_key
from recommender.text import normalize_name

__all__ = ["Artist", "ArtistCatalogue", "Resolution", "lastfm_url", "tag_vocabulary"]

LASTFM_MUSIC_URL = "https://www.last.fm/music/"
FUZZY_SCORE_CUTOFF = 60.0
#: A tag only one listener uses is their own label ("songs for gil"), not a shared music type.
MIN_TAGGERS = 2


@dataclass(frozen=True)
class Artist:
    artist_id: int
    name: str
    url: str
    listeners: int
    #: An https picture of the artist, or "": Discord shows only absolute https images, and the 2011
    #: data's pictures are on Last.fm's old plain-http image host, so those are not kept.
    picture_url: str = ""


@dataclass(frozen=True)
class Resolution:
    """Outcome of matching a typed name: the artist, or suggestions when there is no exact match."""

    artist: Artist | None
    suggestions: list[Artist] = field(default_factory=list)


def _picture(url: str) -> str:
    return url if url.startswith("https://") else ""


def _https(url: str) -> str:
    return "https://" + url[len("http://") :] if url.startswith("http://www.last.fm/") else url


def lastfm_url(name: str) -> str:
    """Last.fm page for an artist name, in the form Last.fm itself uses."""
    return LASTFM_MUSIC_URL + urllib.parse.quote_plus(name)


class ArtistCatalogue:
    """Artists with popularity and tags, indexed for lookup by (normalised) name.

    Build it with ``from_dataset`` or directly from:

    - ``artists``: DataFrame with columns ``artist_id`` and ``name`` and optionally ``url``
      (missing or empty urls become the artist's Last.fm page URL built from the name) and
      ``picture_url`` (only https pictures are kept);
    - ``listeners``: artist id -> number of distinct listeners (dict or Series); absent ids
      count as 0;
    - ``tags``: artist id -> tag names, already ranked best first.
    """

    def __init__(
        self,
        artists: pd.DataFrame,
        listeners: Mapping[int, int] | pd.Series | None = None,
        tags: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        counts = dict(listeners.items()) if listeners is not None else {}
        ids = artists["artist_id"].to_numpy(dtype="int64")
        names = artists["name"].astype(str).tolist()
        if "url" in artists:
            # The 2011 data links over plain http; Last.fm serves (and Discord prefers) https.
            urls = [_https(u) for u in artists["url"].fillna("").astype(str)]
        else:
            urls = [""] * len(ids)
        if "picture_url" in artists:
            pictures = [_picture(u) for u in artists["picture_url"].fillna("").astype(str)]
        else:
            pictures = [""] * len(ids)
        if len(set(ids.tolist())) != len(ids):
            raise ValueError("artist ids must be unique")

        records = [
            Artist(int(i), name, url or lastfm_url(name), int(counts.get(int(i), 0)), picture)
            for i, name, url, picture in zip(ids, names, urls, pictures, strict=True)
        ]
        # Popularity order: most listeners first, then id so ties are deterministic.
        records.sort(key=lambda a: (-a.listeners, a.artist_id))
        self._ranked: list[Artist] = records
        self._by_id: dict[int, Artist] = {a.artist_id: a for a in records}
        self._keys: list[str] = [normalize_name(a.name) for a in records]

        # First artist seen per key is the most listened, since records are ranked.
        self._by_key: dict[str, Artist] = {}
        for key, artist in zip(self._keys, records, strict=True):
            self._by_key.setdefault(key, artist)

        # Sorted keys with their popularity rank, for prefix ranges by bisection.
        order = sorted(range(len(self._keys)), key=self._keys.__getitem__)
        self._sorted_keys: list[str] = [self._keys[i] for i in order]
        self._sorted_ranks = np.asarray(order, dtype=np.int64)

        # Keys ordered by length: a ratio above the cutoff bounds the length of a match,
        # so fuzzy search only scores a slice of the catalogue.
        by_length = sorted(range(len(self._keys)), key=lambda r: (len(self._keys[r]), r))
        self._length_keys: list[str] = [self._keys[r] for r in by_length]
        self._length_of: list[int] = [len(k) for k in self._length_keys]
        self._length_ranks: list[int] = by_length

        self._tags: dict[int, list[str]] = {int(k): [str(t) for t in v] for k, v in (tags or {}).items()}

    def extended(self, artists: Iterable[tuple[int, str, str | None]]) -> ArtistCatalogue:
        """A new catalogue that also holds these (artist_id, name, url) artists, with no listeners.

        It rebuilds every index, so it suits a one-off engine (the CLI's) given all its artists at
        once; a serving catalogue that grows one artist at a time layers them over this one instead
        (recommender.member_artists).
        """
        extra = [(int(i), str(n), u or "", "") for i, n, u in artists if int(i) not in self._by_id]
        if not extra:
            return self
        rows = [(a.artist_id, a.name, a.url, a.picture_url) for a in self._ranked] + extra
        frame = pd.DataFrame(rows, columns=["artist_id", "name", "url", "picture_url"])
        listeners = {a.artist_id: a.listeners for a in self._ranked}
        return ArtistCatalogue(frame, listeners, self._tags)

    @classmethod
    def from_dataset(
        cls, ds: LastFmDataset, top_tags_per_artist: int = 10, min_taggers: int = MIN_TAGGERS
    ) -> ArtistCatalogue:
        """Catalogue of every artist in ``ds``; keeps the ``top_tags_per_artist`` best music types each
        (recommender.tags), of those that at least ``min_taggers`` listeners use."""
        listeners = ds.plays.groupby("artist_id")["user_id"].nunique()
        return cls(ds.artists, listeners, _rank_tags(ds, top_tags_per_artist, min_taggers))

    def __iter__(self) -> Iterator[Artist]:
        """All artists, most listened first."""
        return iter(self._ranked)

    def __len__(self) -> int:
        return len(self._ranked)

    def __contains__(self, artist_id: object) -> bool:
        return artist_id in self._by_id

    def get(self, artist_id: int) -> Artist:
        """The artist with this id; KeyError if unknown."""
        try:
            return self._by_id[int(artist_id)]
        except (KeyError, TypeError, ValueError):
            raise KeyError(artist_id) from None

    def lookup(self, name: str) -> Artist | None:
        """Exact match on the normalised name; the most listened artist wins a tie."""
        key = normalize_name(name)
        return self._by_key.get(key) if key else None

    def url_for(self, name: str) -> str:
        """The catalogue's URL for a known artist, else a Last.fm URL built from the name."""
        artist = self.lookup(name)
        return artist.url if artist is not None else lastfm_url(name.strip())

    def visible_in(self, server_id: int | None = None, own: Iterable[int] = ()) -> ArtistCatalogue:
        """The Last.fm data is seen everywhere: the same catalogue, whoever asks from wherever."""
        return self

    def is_visible(self, artist_id: int) -> bool:
        return artist_id in self

    def search(self, query: str, limit: int = 10) -> list[Artist]:
        """Autocomplete: prefix matches by popularity, then fuzzy matches by score and popularity.

        Names are compared normalised (see ``normalize_name``); fuzzy matches need a
        ``fuzz.ratio`` of at least FUZZY_SCORE_CUTOFF. An empty query returns the most
        popular artists.
        """
        if limit <= 0:
            return []
        if not normalize_name(query):
            return self._ranked[:limit]
        prefix, fuzzy = self.scored_search(query, limit)
        return prefix + [artist for _, artist in fuzzy[: limit - len(prefix)]]

    def scored_search(self, query: str, limit: int) -> tuple[list[Artist], list[tuple[float, Artist]]]:
        """`search`'s two parts for a non-empty query, each at most `limit` long: the prefix matches by
        popularity, and (when those are fewer than `limit`) the other fuzzy matches as (score, artist),
        best first. For merging with names kept elsewhere (recommender.member_artists)."""
        key = normalize_name(query)
        if not key or limit <= 0:
            return [], []
        ranks = self._prefix_ranks(key, limit)
        fuzzy: list[tuple[float, int]] = []
        if len(ranks) < limit:
            seen = set(ranks)
            fuzzy = sorted(
                ((score, rank) for score, rank in self._fuzzy(key) if rank not in seen),
                key=lambda sr: (-sr[0], sr[1]),
            )[:limit]
        return [self._ranked[r] for r in ranks], [(score, self._ranked[r]) for score, r in fuzzy]

    def _fuzzy(self, key: str) -> list[tuple[float, int]]:
        """(score, popularity rank) of every name whose fuzz.ratio reaches the cutoff."""
        # ratio = 200 * common / (len(a) + len(b)) <= 200 * min / sum, which bounds the
        # length of any name that can reach the cutoff; widened by one against rounding.
        c = FUZZY_SCORE_CUTOFF / 100
        shortest = int(len(key) * c / (2 - c)) - 1
        longest = int(len(key) * (2 - c) / c) + 1
        lo = bisect.bisect_left(self._length_of, shortest)
        hi = bisect.bisect_right(self._length_of, longest)
        # fuzz.ratio, not WRatio: WRatio's partial matching scores one-letter names
        # such as "A" at 90 against any query holding that letter, and is far slower;
        # ratio is bit-parallel (benchmarks/catalogue_search.py measures it).
        matches = process.extract(
            key,
            self._length_keys[lo:hi],
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_SCORE_CUTOFF,
            limit=None,
        )
        return [(score, self._length_ranks[lo + index]) for _, score, index in matches]

    def _prefix_ranks(self, key: str, limit: int) -> list[int]:
        lo = bisect.bisect_left(self._sorted_keys, key)
        hi = bisect.bisect_left(self._sorted_keys, key + "\U0010ffff", lo)
        if hi - lo <= limit:
            return sorted(self._sorted_ranks[lo:hi].tolist())
        candidates = self._sorted_ranks[lo:hi]
        best = np.partition(candidates, limit - 1)[:limit]
        return sorted(best.tolist())

    def closest(self, query: str, limit: int = 5) -> list[Artist]:
        """The names nearest to ``query`` whatever their score, for "did you mean" when
        ``search`` finds nothing above its cutoff. Slower than ``search`` (no length bound)."""
        key = normalize_name(query)
        if not key or limit <= 0:
            return self._ranked[: max(limit, 0)]
        return [artist for _, artist in self.scored_closest(query, limit)]

    def scored_closest(self, query: str, limit: int) -> list[tuple[float, Artist]]:
        """`closest` for a non-empty query, as (score, artist) best first."""
        key = normalize_name(query)
        if not key or limit <= 0:
            return []
        matches = process.extract(key, self._length_keys, scorer=fuzz.ratio, limit=None)
        best = sorted(
            ((score, self._length_ranks[index]) for _, score, index in matches), key=lambda sr: (-sr[0], sr[1])
        )
        return [(score, self._ranked[rank]) for score, rank in best[:limit]]

    def suggestions(self, query: str, limit: int = 5) -> list[Artist]:
        """Search results, or failing those the closest names: never empty for a non-empty catalogue."""
        return self.search(query, limit) or self.closest(query, limit)

    def resolve(self, name: str) -> Resolution:
        """Exact match if any, else up to five suggestions."""
        artist = self.lookup(name)
        if artist is not None:
            return Resolution(artist, [])
        return Resolution(None, self.suggestions(name, 5))

    def top_tags(self, artist_id: int, n: int = 5) -> list[str]:
        """Up to ``n`` of the artist's tags, most tagging users first; KeyError if unknown."""
        artist = self.get(artist_id)
        return self._tags.get(artist.artist_id, [])[: max(n, 0)]

    def search_tags(self, query: str, limit: int = 25) -> list[str]:
        """Genre autocomplete: tags starting with ``query`` (case-insensitive), then tags containing it,
        each group by how many artists carry the tag; an empty query gives the most used tags."""
        if limit <= 0:
            return []
        ranked = self._tags_by_use()
        # Compared as keys, so "hip hop" finds "hip-hop" and "post rock" finds "post-rock".
        needle = tag_key(query)
        if not needle:
            return ranked[:limit] if not query.strip() else []
        keys = self._tag_keys()
        starts = [t for t in ranked if keys[t].startswith(needle)]
        if len(starts) >= limit:
            return starts[:limit]
        contains = [t for t in ranked if needle in keys[t] and not keys[t].startswith(needle)]
        return (starts + contains)[:limit]

    def find_tag(self, name: str) -> str | None:
        """The catalogue's music type a typed genre names ("Hip Hop", "hiphop" -> "hip-hop"), if any."""
        key = tag_key(name)
        by_key = getattr(self, "_tag_by_key", None)
        if by_key is None:
            # Every tag of a key is spelled one way already; the most used wins should two remain.
            by_key = {}
            for tag in self._tags_by_use():
                by_key.setdefault(self._tag_keys()[tag], tag)
            self._tag_by_key = by_key
        return by_key.get(key) if key else None

    def tagged(self, tag: str, depth: int = 10) -> list[int]:
        """Ids of the artists with ``tag`` among their first ``depth`` tags, most listened first."""
        return [a.artist_id for a in self._ranked if tag in self._tags.get(a.artist_id, ())[:depth]]

    def _tag_keys(self) -> dict[str, str]:
        cached = getattr(self, "_tag_key_of", None)
        if cached is None:
            cached = {tag: tag_key(tag) for tag in self._tags_by_use()}
            self._tag_key_of = cached
        return cached

    def _tags_by_use(self) -> list[str]:
        """Every tag, most artists first (ties by name); computed on first use."""
        cached = getattr(self, "_tag_ranking", None)
        if cached is None:
            uses: dict[str, int] = {}
            for tags in self._tags.values():
                for tag in tags:
                    uses[tag] = uses.get(tag, 0) + 1
            cached = sorted(uses, key=lambda t: (-uses[t], t))
            self._tag_ranking = cached
        return cached


def tag_vocabulary(ds: LastFmDataset) -> dict[str, str]:
    """Each raw tag of ``ds`` -> its music type (recommender.tags), spellings picked by distinct taggers."""
    raw = ds.tags.set_index("tag_id")["tag"].str.lower()
    taggings = pd.DataFrame({"tag": ds.tag_assignments["tag_id"].map(raw), "user_id": ds.tag_assignments["user_id"]})
    return build_vocabulary(taggings.dropna().groupby("tag")["user_id"].nunique().to_dict())


def _rank_tags(ds: LastFmDataset, per_artist: int, min_taggers: int = MIN_TAGGERS) -> dict[int, list[str]]:
    """Music types per artist ranked by distinct tagging users, ties by name."""
    if per_artist <= 0 or ds.tag_assignments.empty:
        return {}
    # Tags naming one music type are one tag to a reader; tags naming none are left out.
    vocabulary = tag_vocabulary(ds)
    labels_of = ds.tags["tag"].str.lower().map(vocabulary)
    known = labels_of.notna().to_numpy()
    # sort=True makes the codes alphabetical, so ties can be broken on integers.
    codes, names = pd.factorize(labels_of[known], sort=True)
    code_of = pd.Series(codes, index=ds.tags["tag_id"].to_numpy()[known])
    assigned = pd.DataFrame(
        {
            "artist_id": ds.tag_assignments["artist_id"].to_numpy(),
            "user_id": ds.tag_assignments["user_id"].to_numpy(),
            "code": ds.tag_assignments["tag_id"].map(code_of).to_numpy(),
        }
    ).dropna()
    assigned = assigned.astype("int64").drop_duplicates()
    taggers = assigned.groupby("code")["user_id"].nunique()
    assigned = assigned[assigned["code"].isin(taggers.index[taggers >= min_taggers])]
    counts = assigned.groupby(["artist_id", "code"]).size().rename("users").reset_index()
    counts = counts.sort_values(["artist_id", "users", "code"], ascending=[True, False, True], kind="stable")
    counts = counts[counts.groupby("artist_id").cumcount() < per_artist]
    labels = np.asarray(names, dtype=object)[counts["code"].to_numpy()]
    ranked: dict[int, list[str]] = {}
    # A plain loop: iterating 12k pandas groups costs more than the whole ranking.
    for artist_id, tag in zip(counts["artist_id"].tolist(), labels.tolist(), strict=True):
        ranked.setdefault(artist_id, []).append(tag)
    return ranked
