"""A member's likes and what Encore makes of them, always from the store's current rows.

Recommendations are solved from the member's likes and "not interested" marks as they are in the
store at that moment, so both count at once, whatever the last refit saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.services.refit import RefitService
from db.rows import Taste
from db.store import Store
from recommender.catalogue import Artist
from recommender.debias import DEFAULT_POPULARITY_PENALTY
from recommender.engine import MAX_RESULTS, EngineError, Explanation, Recommendation
from recommender.text import clean_user_text, normalize_name

MAX_NAME_LENGTH = 200


class LibraryError(ValueError):
    """A request about likes that cannot be done; the message is for the member."""


class NoMatch(LibraryError):
    """No catalogue artist has that name; `suggestions` are the nearest ones."""

    def __init__(self, query: str, suggestions: tuple[Artist, ...]) -> None:
        super().__init__(f"no artist matches {query!r}")
        self.query = query
        self.suggestions = suggestions


@dataclass(frozen=True)
class LikeResult:
    artist: Artist
    new: bool


class MemberLibrary:
    def __init__(self, store: Store, models: RefitService) -> None:
        self.store = store
        self.models = models

    @property
    def catalogue(self):
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
        new = await self.store.like(user_id, artist.artist_id, guild_id=guild_id)
        return LikeResult(artist, new)

    async def add_artist_and_like(self, user_id: int, name: str, guild_id: int | None = None) -> LikeResult:
        """For a name the catalogue lacks, after the member confirmed it is a real artist."""
        query = clean_user_text(name)
        if not query or len(query) > MAX_NAME_LENGTH:
            raise LibraryError(f"artist names are 1 to {MAX_NAME_LENGTH} characters")
        artist_id = await self.store.add_member_artist(query, normalize_name(query))
        if artist_id not in self.catalogue:
            row = await self.store.get_artist(artist_id)
            assert row is not None
            await self.models.include_artists([(row.id, row.name, row.url)])
        new = await self.store.like(user_id, artist_id, guild_id=guild_id)
        return LikeResult(self.catalogue.get(artist_id), new)

    async def unlike(self, user_id: int, name: str) -> LikeResult:
        artist = self.resolve(name)
        removed = await self.store.unlike(user_id, artist.artist_id)
        return LikeResult(artist, removed)

    async def not_interested(self, user_id: int, artist_id: int) -> bool:
        return await self.store.mark_not_interested(user_id, artist_id)

    async def liked_artists(self, user_id: int) -> list[Artist]:
        return [
            self.catalogue.get(row.artist_id)
            for row in await self.store.likes_of(user_id)
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
        setting = await self.store.server_popularity_penalty(guild_id) if guild_id else None
        return DEFAULT_POPULARITY_PENALTY if setting is None else setting

    async def forget(self, user_id: int) -> dict[str, int]:
        """Every row about the member goes now; the model forgets them at its next refit."""
        return await self.store.forget_user(user_id)

    async def _taste(self, user_id: int) -> Taste:
        taste = await self.store.taste_of(user_id)
        if not taste.liked:
            raise LibraryError("you have not liked any artist yet; use /like first")
        return taste
