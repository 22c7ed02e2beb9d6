"""A member's likes and what Encore makes of them, always from the store's current rows.

Recommendations are solved from the member's likes and "not interested" marks as they are in the
store at that moment, so both count at once, whatever the last refit saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.errors import NoMatch, UserError
from db.rows import Privacy, Taste
from db.store import LikeLimitReached, Store
from recommender.catalogue import Artist, ArtistCatalogue
from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import MAX_RESULTS, Engine, EngineError, Explanation, Recommendation
from recommender.text import clean_user_text, normalize_name

__all__ = [
    "MAX_NAME_LENGTH",
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
#: How many likes one member may store (ENCORE_MAX_LIKES overrides it).
DEFAULT_MAX_LIKES = 2_000
#: Suggestions given for each name a likes list does not match (as `encore recommend --likes` prints them).
LIST_SUGGESTIONS = 3


class LibraryError(UserError, ValueError):
    """A request about likes that cannot be done; the message is for the member."""


class ServedModels(Protocol):
    """What the library needs of the model service: the served engine and catalogue, and a way to add artists."""

    @property
    def catalogue(self) -> ArtistCatalogue: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def state(self) -> Any:
        """The served snapshot (`.snapshot`) and when it was loaded (`.loaded_at`); None before the first."""

    @property
    def last_error(self) -> str | None: ...

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None: ...


@dataclass(frozen=True)
class LikeResult:
    artist: Artist
    new: bool


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


class MemberLibrary:
    def __init__(self, store: Store, models: ServedModels, *, max_likes: int = DEFAULT_MAX_LIKES) -> None:
        self.store = store
        self.models = models
        self.max_likes = max_likes

    async def _store_like(self, user_id: int, artist_id: int, guild_id: int | None) -> bool:
        try:
            return await self.store.likes.like(user_id, artist_id, guild_id=guild_id, limit=self.max_likes)
        except LikeLimitReached:
            raise LibraryError(
                f"you already like {self.max_likes:,} artists, as many as Encore keeps for one member; "
                "/unlike some before adding more"
            ) from None

    @property
    def catalogue(self) -> ArtistCatalogue:
        return self.models.catalogue

    def resolve(self, name: str) -> Artist:
        """The catalogue artist for a typed name, or NoMatch with suggestions."""
        query = clean_user_text(name)
        if not query:
            raise LibraryError("give an artist name")
        if len(query) > MAX_NAME_LENGTH:
            raise LibraryError(f"artist names are at most {MAX_NAME_LENGTH} characters")
        resolution = self.catalogue.resolve(query)
        if resolution.artist is None:
            raise NoMatch(query, tuple(resolution.suggestions))
        return resolution.artist

    async def like(self, user_id: int, name: str, guild_id: int | None = None) -> LikeResult:
        artist = self.resolve(name)
        new = await self._store_like(user_id, artist.artist_id, guild_id)
        return LikeResult(artist, new)

    async def like_artist_id(self, user_id: int, artist_id: int, guild_id: int | None = None) -> LikeResult:
        """A like for an artist already picked from the catalogue (a button or a menu)."""
        artist = self.catalogue.get(artist_id)
        new = await self._store_like(user_id, artist.artist_id, guild_id)
        return LikeResult(artist, new)

    async def add_artist_and_like(self, user_id: int, name: str, guild_id: int | None = None) -> LikeResult:
        """For a name the catalogue lacks, after the member confirmed it is a real artist."""
        query = clean_user_text(name)
        if not query or len(query) > MAX_NAME_LENGTH:
            raise LibraryError(f"artist names are 1 to {MAX_NAME_LENGTH} characters")
        artist_id = await self.store.artists.add_member_artist(query, normalize_name(query))
        if artist_id not in self.catalogue:
            row = await self.store.artists.get_artist(artist_id)
            assert row is not None
            await self.models.include_artists([(row.id, row.name, row.url)])
        new = await self._store_like(user_id, artist_id, guild_id)
        return LikeResult(self.catalogue.get(artist_id), new)

    async def unlike(self, user_id: int, name: str) -> LikeResult:
        artist = self.resolve(name)
        removed = await self.store.likes.unlike(user_id, artist.artist_id)
        return LikeResult(artist, removed)

    async def not_interested(self, user_id: int, artist_id: int) -> bool:
        return await self.store.likes.mark_not_interested(user_id, artist_id)

    async def liked_artists(self, user_id: int) -> list[Artist]:
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
        """The member's top `n`, leaving out the artists in `exclude` (already shown, say), and
        optionally only artists tagged `genre`, ranked with the server's popularity penalty."""
        taste = await self._taste(user_id)
        penalty = await self.popularity_penalty(guild_id)
        excluded = set(exclude)
        engine = self.models.engine
        try:
            # A genre filters a deep list: a genre's best are rarely all in the overall top n.
            depth = MAX_RESULTS if genre else min(MAX_RESULTS, n + len(excluded))
            pool = engine.recommend_for_likes(taste.liked, depth, taste.not_interested, taste.plays, penalty)
        except EngineError as error:
            raise LibraryError(str(error)) from None
        pool = [r for r in pool if r.artist.artist_id not in excluded]
        if genre:
            tag = genre.strip().casefold()
            pool = [r for r in pool if tag in self.catalogue.top_tags(r.artist.artist_id, 10)]
            if not pool:
                raise LibraryError(f"none of your top {MAX_RESULTS} recommendations is tagged with that genre")
        return pool[:n]

    def similar(self, name: str, n: int = 10) -> tuple[Artist, list[tuple[Artist, float]]]:
        """The artist for a typed name, and the `n` artists most like them with their similarity."""
        artist = self.resolve(name)
        try:
            return artist, self.models.engine.similar(artist.artist_id, n)
        except EngineError as error:
            raise LibraryError(str(error)) from None

    async def explain(self, user_id: int, name: str, guild_id: int | None = None) -> Explanation:
        artist = self.resolve(name)
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
        await self.store.guilds.set_server_popularity_penalty(guild_id, penalty)

    async def privacy_of(self, user_id: int) -> Privacy:
        return await self.store.members.privacy_of(user_id)

    async def set_privacy(self, user_id: int, privacy: Privacy) -> None:
        await self.store.members.set_privacy(user_id, privacy)

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
        """Every row about the member goes now; the model forgets them at its next refit."""
        return await self.store.members.forget_user(user_id)

    async def _taste(self, user_id: int) -> Taste:
        taste = await self.store.likes.taste_of(user_id)
        if not taste.liked:
            raise LibraryError("you have not liked any artist yet; use /like first")
        return taste
