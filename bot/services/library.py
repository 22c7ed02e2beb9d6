"""A member's likes and what Encore makes of them, always from the store's current rows.

Recommendations are solved from the member's likes and "not interested" marks as they are in the
store at that moment, so both count at once, whatever the last refit saw.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.errors import NoMatch, UserError
from bot.services.models.forgetting import forget_member
from bot.services.new_artists import FoundOnLastFm, NewArtists
from bot.services.server_artists import ServerArtists, check_new_artist_name
from db.models import PRIVACY_VALUES
from db.rows import LikeSource, Privacy, Taste
from db.store import AddedArtistLimitReached, LikeLimitReached, Store
from recommender.catalogue import Artist, ArtistCatalogue
from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import MAX_RESULTS, Engine, EngineError, Explanation, Recommendation
from recommender.member_artists import CatalogueView
from recommender.text import clean_user_text, normalize_name

__all__ = [
    "MAX_NAME_LENGTH",
    "MAX_NAMES_AT_ONCE",
    "LibraryError",
    "LikeResult",
    "MemberLibrary",
    "NoMatch",
    "ServedModels",
    "ServingStatus",
    "match_names",
    "parse_liked_names",
    "split_names",
]

MAX_NAME_LENGTH = 200
#: Past about 1 the penalty outweighs taste (benchmarks/README.md, "The evaluation report").
MAX_POPULARITY_PENALTY = 2.0
#: How many likes one member may store (ENCORE_MAX_LIKES overrides it).
DEFAULT_MAX_LIKES = 2_000
#: How many new artists one member may add in 24 hours (ENCORE_MAX_ADDED_ARTISTS_PER_DAY overrides it).
DEFAULT_MAX_ADDED_ARTISTS_PER_DAY = 20
#: How far down an artist's tags a genre counts (the catalogue keeps ten per artist).
GENRE_TAG_DEPTH = 10
#: Names one /like may list ("Radiohead, Björk, Portishead"), and artists one menu choice may like.
MAX_NAMES_AT_ONCE = 25
#: Suggestions given for each name a likes list does not match (as `encore recommend --likes` prints them).
LIST_SUGGESTIONS = 3


class LibraryError(UserError, ValueError):
    """A request about likes that cannot be done; the message is for the member."""


class ServedModels(Protocol):
    """What the library needs of the model service: the served engine and catalogue, and a way to add artists."""

    @property
    def catalogue(self) -> CatalogueView | ArtistCatalogue: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def state(self) -> Any:
        """The served snapshot (`.snapshot`) and when it was loaded (`.loaded_at`); None before the first."""

    @property
    def last_error(self) -> str | None: ...

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None: ...

    async def place_artist(self, artist_id: int, neighbours: Sequence[Any], tags: Sequence[str] = ()) -> Any:
        """Serve a member artist at once from similar artists (recommender/placement.py)."""

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> Any:
        """Drop a user's row and these deleted artists from the served model and the snapshots on disk."""


@dataclass(frozen=True)
class LikeResult:
    artist: Artist
    new: bool
    #: For an added artist: "found" on Last.fm, "unknown" to Last.fm too, "off" (no API key), or "" (not asked).
    lastfm: str = ""
    #: The known artists an added artist was placed beside, best match first (see `counts_now`).
    placed_beside: tuple[Artist, ...] = ()
    #: Whether the served model has the artist, so that it counts in recommendations before any refit.
    counts_now: bool = True


@dataclass(frozen=True)
class ServingStatus:
    """The served model and the store's totals, for /encore status."""

    #: The snapshot's meta.json (version, created, users, artists); empty before any model is served.
    meta: dict[str, Any]
    loaded_at: datetime | None
    counts: dict[str, int]
    #: Why the last refit failed, if it did.
    last_error: str | None


def split_names(text: str, catalogue: ArtistCatalogue) -> list[str]:
    """Split on commas, but keep names that contain one ("Crosby, Stills, Nash & Young") whole."""
    pieces = [p.strip() for p in text.split(",")]
    names, start = [], 0
    while start < len(pieces):
        end = len(pieces)
        while end > start + 1 and catalogue.lookup(", ".join(pieces[start:end])) is None:
            end -= 1
        names.append(", ".join(pieces[start:end]))
        start = end
    return [n for n in names if n]


def match_names(names: Iterable[str], catalogue: ArtistCatalogue) -> tuple[list[Artist], list[NoMatch]]:
    """The catalogue artists for typed names, each once and in order, and a NoMatch for each unknown name
    (blank names are skipped)."""
    artists: list[Artist] = []
    unknown: list[NoMatch] = []
    for name in names:
        name = clean_user_text(str(name))
        if not name:
            continue
        artist = catalogue.lookup(name)
        if artist is None:
            unknown.append(NoMatch(name, tuple(catalogue.suggestions(name, LIST_SUGGESTIONS))))
        elif artist not in artists:
            artists.append(artist)
    return artists, unknown


def parse_liked_names(text: str, catalogue: ArtistCatalogue) -> tuple[list[Artist], list[NoMatch]]:
    """A comma-separated likes list ("Radiohead, Björk") as catalogue artists and the names it does not know."""
    return match_names(split_names(text, catalogue), catalogue)


def _typed_name(name: str) -> str:
    """A typed artist name tidied, or LibraryError if it is blank or too long to be one."""
    query = clean_user_text(name)
    if not query:
        raise LibraryError("give an artist name")
    if len(query) > MAX_NAME_LENGTH:
        raise LibraryError(f"artist names are at most {MAX_NAME_LENGTH} characters")
    return query


class MemberLibrary:
    def __init__(
        self,
        store: Store,
        models: ServedModels,
        *,
        max_likes: int = DEFAULT_MAX_LIKES,
        max_added_artists_per_day: int = DEFAULT_MAX_ADDED_ARTISTS_PER_DAY,
        new_artists: NewArtists | None = None,
    ) -> None:
        self.store = store
        self.models = models
        self.max_likes = max_likes
        self.max_added_artists_per_day = max_added_artists_per_day
        self.artists = ServerArtists(store, models)
        #: Last.fm lookups for artists the catalogue lacks (off without an API key).
        self.new_artists = new_artists or NewArtists(None)

    async def _store_like(
        self, user_id: int, artist_id: int, guild_id: int | None, source: LikeSource = "discord"
    ) -> bool:
        try:
            new = await self.store.likes.like(
                user_id, artist_id, guild_id=guild_id, source=source, limit=self.max_likes
            )
        except LikeLimitReached:
            raise LibraryError(
                f"you already like {self.max_likes:,} artists, as many as Encore keeps for one member; "
                "/unlike some before adding more"
            ) from None
        # The store recorded that a member artist liked in a server is seen there; so does the catalogue.
        self.artists.shown_in(artist_id, guild_id)
        return new

    @property
    def catalogue(self) -> Any:
        """Every artist served, by id; names go through `catalogue_for`, which knows who may see what."""
        return self.models.catalogue

    async def catalogue_for(self, user_id: int | None, guild_id: int | None) -> Any:
        """The artists names find for this member in this server (None: a DM), for autocomplete and the
        rest: the Last.fm artists, the added artists seen there and the member's own."""
        return await self.artists.view(user_id, guild_id)

    def resolve(self, name: str, catalogue: Any = None) -> Artist:
        """The artist for a typed name, or NoMatch with suggestions; among `catalogue` (a `catalogue_for`),
        else among the artists everyone sees."""
        query = _typed_name(name)
        catalogue = self.catalogue.visible_in(None) if catalogue is None else catalogue
        resolution = catalogue.resolve(query)
        if resolution.artist is None:
            raise NoMatch(query, tuple(resolution.suggestions))
        return resolution.artist

    async def _resolve_for(self, user_id: int, name: str, guild_id: int | None) -> Artist:
        query = _typed_name(name)
        return self.resolve(query, await self.catalogue_for(user_id, guild_id))

    async def like(self, user_id: int, name: str, guild_id: int | None = None) -> LikeResult:
        artist = await self._resolve_for(user_id, name, guild_id)
        new = await self._store_like(user_id, artist.artist_id, guild_id)
        return LikeResult(artist, new)

    async def like_artist_id(
        self, user_id: int, artist_id: int, guild_id: int | None = None, *, source: LikeSource = "discord"
    ) -> LikeResult:
        """A like for an artist already picked from the catalogue (a button or a menu; 'session': a
        listening session's Into it)."""
        artist = self.catalogue.get(artist_id)
        new = await self._store_like(user_id, artist.artist_id, guild_id, source)
        return LikeResult(artist, new)

    async def like_several(
        self, user_id: int, artist_ids: Sequence[int], guild_id: int | None = None
    ) -> tuple[list[Artist], list[Artist], int]:
        """Like these catalogue artists in order: (new likes, already liked, how many were left out
        because the member reached `max_likes`). At most MAX_NAMES_AT_ONCE at a time."""
        unique = list(dict.fromkeys(artist_ids))
        if len(unique) > MAX_NAMES_AT_ONCE:
            raise LibraryError(f"Encore likes at most {MAX_NAMES_AT_ONCE} artists at once")
        liked: list[Artist] = []
        already: list[Artist] = []
        refused: LibraryError | None = None
        over = 0
        for artist_id in unique:
            try:
                new = await self._store_like(user_id, artist_id, guild_id)
            except LibraryError as limit:  # the likes limit: a repeated like still goes through
                refused, over = limit, over + 1
                continue
            (liked if new else already).append(self.catalogue.get(artist_id))
        if refused is not None and not liked and not already:
            raise refused
        return liked, already, over

    async def add_artist_and_like(self, user_id: int, name: str, guild_id: int | None = None) -> LikeResult:
        """For a name the catalogue lacks, after the member confirmed it is a real artist; a name new to
        Encore counts towards the member's daily limit (`max_added_artists_per_day`). With a Last.fm API
        key the artist is looked up there first (bot/services/new_artists.py): added under Last.fm's
        spelling with its tags, and placed in the model beside its similar artists, it counts at once."""
        query = clean_user_text(name)
        if not query or len(query) > MAX_NAME_LENGTH:
            raise LibraryError(f"artist names are 1 to {MAX_NAME_LENGTH} characters")
        if self.artists.is_lastfm_name(query):
            return await self._add_and_like(user_id, query, None, guild_id, "")
        check_new_artist_name(query)
        if not self.new_artists.enabled:
            return await self._add_and_like(user_id, query, None, guild_id, "off")
        base = self.catalogue.base if isinstance(self.catalogue, CatalogueView) else self.catalogue
        found = await self.new_artists.find(user_id, query, base)
        if found is None:
            return await self._add_and_like(user_id, query, None, guild_id, "unknown")
        if self.artists.is_lastfm_name(found.name):
            # Last.fm's autocorrection named an artist the catalogue has ("Radiohed" -> "Radiohead").
            return await self._add_and_like(user_id, found.name, None, guild_id, "")
        check_new_artist_name(found.name)
        return await self._add_and_like(user_id, found.name, found, guild_id, "found")

    async def _add_and_like(
        self, user_id: int, query: str, found: FoundOnLastFm | None, guild_id: int | None, lastfm: str
    ) -> LikeResult:
        await self.artists.sync()
        try:
            artist_id = await self.store.artists.add_member_artist(
                query,
                normalize_name(query),
                found.url if found is not None else None,
                added_by=user_id,
                daily_limit=self.max_added_artists_per_day,
            )
        except AddedArtistLimitReached as reached:
            raise LibraryError(
                f"you have added {reached.limit:,} new artists in the last 24 hours, Encore's daily limit; "
                f"you can add another <t:{math.ceil(reached.retry_at.timestamp())}:R>"
            ) from None
        self.artists.check_addable(artist_id, guild_id)
        if self.artists.needs_naming(artist_id):
            row = await self.store.artists.get_artist(artist_id)
            assert row is not None
            # O(1): the new artist joins the served ones beside the Last.fm catalogue, which stays as it is.
            await self.models.include_artists([(row.id, row.name, row.url)])
        placed: tuple[Artist, ...] = ()
        if found is not None:
            beside = await self.models.place_artist(artist_id, found.neighbours, found.tags)
            placed = tuple(self.catalogue.get(n.artist_id) for n in beside)
        new = await self._store_like(user_id, artist_id, guild_id)
        counts_now = self.models.engine.interactions.artist_column(artist_id) is not None
        return LikeResult(self.catalogue.get(artist_id), new, lastfm, placed, counts_now)

    async def unlike(self, user_id: int, name: str) -> LikeResult:
        artist = await self._resolve_for(user_id, name, None)
        removed = await self.store.likes.unlike(user_id, artist.artist_id)
        return LikeResult(artist, removed)

    async def not_interested(self, user_id: int, artist_id: int) -> bool:
        return await self.store.likes.mark_not_interested(user_id, artist_id)

    async def liked_artists(self, user_id: int) -> list[Artist]:
        # After a restart, artists added since the served snapshot are named from the store.
        await self.artists.sync()
        return [
            self.catalogue.get(row.artist_id)
            for row in await self.store.likes.likes_of(user_id)
            if row.artist_id in self.catalogue
        ]

    async def recommend(
        self,
        user_id: int,
        n: int = 10,
        genre: str | None = None,
        exclude: Iterable[int] = (),
        guild_id: int | None = None,
    ) -> list[Recommendation]:
        """The member's top `n`, leaving out the artists in `exclude` (already shown, say) and added
        artists not seen in this server, and optionally only artists tagged `genre`, ranked with the
        server's popularity penalty."""
        taste = await self._taste(user_id)
        penalty = await self.popularity_penalty(guild_id)
        seen = await self.catalogue_for(user_id, guild_id)
        excluded = set(exclude)
        engine = self.models.engine

        within = None
        if genre:
            # The whole catalogue's artists of the genre are ranked, not the overall top few filtered.
            tag = self.catalogue.find_tag(genre)
            tagged = self.catalogue.tagged(tag, GENRE_TAG_DEPTH) if tag else []
            within = [a for a in tagged if a not in excluded and seen.is_visible(a)]
            if not within:
                raise LibraryError("no artist in the catalogue is tagged with that genre; try /genres for some")

        def solve(depth: int) -> tuple[list[Recommendation], list[Recommendation]]:
            try:
                found = engine.recommend_for_likes(
                    taste.liked, depth, taste.not_interested, taste.plays, penalty, within=within
                )
            except EngineError as error:
                raise LibraryError(str(error)) from None
            return found, [
                r for r in found if r.artist.artist_id not in excluded and seen.is_visible(r.artist.artist_id)
            ]

        depth = min(MAX_RESULTS, n + len(excluded))
        found, pool = solve(depth)
        if len(pool) < n and depth < MAX_RESULTS and not all(seen.is_visible(r.artist.artist_id) for r in found):
            # Artists this server does not see took places: look as deep as the engine goes.
            _, pool = solve(MAX_RESULTS)
        if genre and not pool:
            raise LibraryError("you already like or have seen every artist Encore knows with that genre")
        return pool[:n]

    async def similar(
        self, user_id: int, name: str, n: int = 10, *, guild_id: int | None = None
    ) -> tuple[Artist, list[tuple[Artist, float]]]:
        """The artist for a typed name, and the `n` artists most like them that this member sees here,
        with their similarity."""
        seen = await self.catalogue_for(user_id, guild_id)
        artist = self.resolve(name, seen)
        try:
            similar = self.models.engine.similar(artist.artist_id, n)
            if not all(seen.is_visible(a.artist_id) for a, _ in similar):
                # Artists this server does not see took places: look as deep as the engine goes.
                similar = self.models.engine.similar(artist.artist_id, MAX_RESULTS)
        except EngineError as error:
            raise LibraryError(str(error)) from None
        return artist, [(a, score) for a, score in similar if seen.is_visible(a.artist_id)][:n]

    async def explain(self, user_id: int, name: str, guild_id: int | None = None) -> Explanation:
        artist = await self._resolve_for(user_id, name, guild_id)
        taste = await self._taste(user_id)
        penalty = await self.popularity_penalty(guild_id)
        try:
            return self.models.engine.explain_for_likes(
                taste.liked, artist.artist_id, taste.not_interested, taste.plays, penalty
            )
        except EngineError as error:
            raise LibraryError(str(error)) from None

    async def popularity_penalty(self, guild_id: int | None) -> float:
        """The server's setting (/encore settings), else Encore's default."""
        setting = await self.store.guilds.server_popularity_penalty(guild_id) if guild_id else None
        return DEFAULT_POPULARITY_PENALTY if setting is None else setting

    async def set_popularity_penalty(self, guild_id: int, penalty: float | None) -> None:
        """Save the server's setting; None goes back to Encore's default."""
        if penalty is not None and not 0 <= penalty <= MAX_POPULARITY_PENALTY:  # NaN fails both comparisons
            raise LibraryError(f"the popularity penalty is a number from 0 to {MAX_POPULARITY_PENALTY:g}")
        await self.store.guilds.set_server_popularity_penalty(guild_id, penalty)

    async def privacy_of(self, user_id: int) -> Privacy:
        return await self.store.members.privacy_of(user_id)

    async def set_privacy(self, user_id: int, privacy: Privacy) -> None:
        if privacy not in PRIVACY_VALUES:
            raise LibraryError(f"privacy is {' or '.join(PRIVACY_VALUES)}")
        await self.store.members.set_privacy(user_id, privacy)

    async def listening_opt_in(self, user_id: int) -> bool:
        """Whether the member lets a Spotify artist they play during a listening session count as Into it."""
        return await self.store.members.listening_opt_in(user_id)

    async def set_listening_opt_in(self, user_id: int, opted_in: bool) -> None:
        await self.store.members.set_listening_opt_in(user_id, opted_in)

    @property
    def serving_version(self) -> str | None:
        """The served snapshot's version."""
        state = self.models.state
        return state.snapshot.version if state else None

    async def status(self) -> ServingStatus:
        state = self.models.state
        return ServingStatus(
            meta=dict(state.snapshot.meta) if state else {},
            loaded_at=state.loaded_at if state else None,
            counts=await self.store.counts(),
            last_error=self.models.last_error,
        )

    async def forget(self, user_id: int) -> dict[str, int]:
        """Every row about the member goes now, and the served model and every snapshot on disk forget
        them before this returns (bot/services/models/forgetting.py); the rows deleted per table."""
        return await forget_member(self.store, self.models, user_id)

    async def _taste(self, user_id: int) -> Taste:
        taste = await self.store.likes.taste_of(user_id)
        if not taste.liked:
            raise LibraryError("you have not liked any artist yet; use /like first")
        return taste
