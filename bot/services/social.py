"""Members together: group blends, taste compatibility, nearest neighbours, a server's trends, genres.

Everything is solved from the store's current likes (as /recommend is), and answers in member ids:
the cogs turn ids into display names. Privacy: another member's taste is only used when their privacy
is public; the member asking may always use their own. Artists members added are offered only where
they are seen (bot/services/server_artists.py), as /recommend offers them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.errors import UserError
from bot.services.library import ServedModels
from bot.services.server_artists import ServerArtists
from db.rows import Taste
from db.store import Store
from recommender.catalogue import Artist
from recommender.engine import MAX_RESULTS, Engine, EngineError
from recommender.groups import DEFAULT_STRATEGY, GroupRecommendation, recommend_for_group
from recommender.taste import Compatibility, PairCalibration, calibrate, cosines_to, genre_profile, side_by_side

#: The strategies /blend offers (recommender.groups has more, for evaluation).
BLEND_STRATEGIES = ("average", "least-misery")
MAX_GROUP = 10
MAX_TREND_DAYS = 90
#: Solving more members than this at once goes to a worker thread: a few solves are cheaper than the
#: thread hop, many would hold up the event loop (benchmarks/social.py).
SOLVE_ON_LOOP = 24
#: Member vectors kept per served model before the cache starts over.
MAX_CACHED_VECTORS = 50_000


#: Why /neighbours has nothing to compare: the asker's own likes are missing.
NO_TASTE_YET = "you have not liked any artist Encore knows yet; use /like first."


class SocialError(UserError, ValueError):
    """A request that cannot be done; the message is for the member."""


class MembersUnavailable(SocialError):
    """Some members cannot take part: their privacy is private, or they like nothing the model knows.

    The cogs name the members (they know the display names); `message` is the reply without names."""

    def __init__(
        self, private: Sequence[int] = (), empty: Sequence[int] = (), message: str = "some members cannot take part"
    ) -> None:
        super().__init__(message)
        self.private = tuple(private)
        self.empty = tuple(empty)


@dataclass(frozen=True)
class Blend:
    picks: list[GroupRecommendation]
    #: The members blended, in the order of each pick's member scores.
    members: tuple[int, ...]
    strategy: str
    #: Members left out (only when asked to skip unavailable ones, e.g. a voice channel's).
    left_out: MembersUnavailable | None = None


@dataclass(frozen=True)
class TasteMatch:
    compatibility: Compatibility
    shared: list[Artist]
    #: (genre, share for the asker, share for the other member), for the picture.
    genres: list[tuple[str, float, float]]


@dataclass(frozen=True)
class Neighbour:
    user_id: int
    compatibility: Compatibility
    shared: int


@dataclass(frozen=True)
class Trending:
    days: int
    #: (artist, members who liked it in the period), most first.
    top: list[tuple[Artist, int]]
    #: (artist, members this period, members the period before), the biggest rise first.
    rising: list[tuple[Artist, int, int]]


@dataclass
class _EngineCache:
    """What is worth keeping for as long as one model is served."""

    engine: weakref.ref
    calibration: PairCalibration | None = None
    vectors: dict[int, tuple[Taste, np.ndarray | None]] = field(default_factory=dict)


class SocialService:
    def __init__(self, store: Store, models: ServedModels, *, artists: ServerArtists | None = None) -> None:
        """`artists`: who sees which added artist (the library's, to mirror the store once); else its own."""
        self.store = store
        self.models = models
        self.artists = artists if artists is not None else ServerArtists(store, models)
        self._cache: _EngineCache | None = None
        self._calibrating: asyncio.Lock | None = None

    @property
    def catalogue(self):
        return self.models.catalogue

    # -- blends -----------------------------------------------------------------------------------

    async def blend(
        self,
        asker: int,
        member_ids: Sequence[int],
        n: int = 10,
        strategy: str = DEFAULT_STRATEGY,
        skip_unavailable: bool = False,
        *,
        guild_id: int | None = None,
    ) -> Blend:
        """Artists new to every member that suit them all, among those seen in this server (None: only
        those seen everywhere). With `skip_unavailable`, members who cannot take part are left out (and
        listed) instead of failing the whole blend."""
        if strategy not in BLEND_STRATEGIES:
            raise SocialError(f"choose a blend strategy from {', '.join(BLEND_STRATEGIES)}")
        members = list(dict.fromkeys(member_ids))
        if len(members) > MAX_GROUP:
            raise SocialError(f"a blend takes at most {MAX_GROUP} members")
        if len(members) < 2:
            raise SocialError(
                "a blend needs at least two members: name someone else, or join a voice channel with friends"
            )
        engine = self._engine()
        # No member's own: a blend holds nothing any of them likes.
        seen = await self.artists.view(None, guild_id)
        tastes = await self._tastes(asker, members)
        rows = {}
        empty = []
        for user_id, taste in tastes.items():
            try:
                rows[user_id] = engine.likes_row(taste.liked, taste.not_interested, taste.plays)
            except EngineError:
                empty.append(user_id)
        private = [u for u in members if u not in tastes]
        unavailable = MembersUnavailable(private, empty) if private or empty else None
        if unavailable is not None and not skip_unavailable:
            raise unavailable
        kept = [u for u in members if u in rows]
        if len(kept) < 2:
            raise unavailable or SocialError("a blend needs at least two members who like some artists")
        member_rows = [rows[u] for u in kept]
        try:
            found = recommend_for_group(engine, member_rows, n, strategy)
            picks = [p for p in found if seen.is_visible(p.artist.artist_id)]
            if len(picks) < len(found) and n < MAX_RESULTS:
                # Artists this server does not see took places: look as deep as the engine goes.
                deeper = recommend_for_group(engine, member_rows, MAX_RESULTS, strategy)
                picks = [p for p in deeper if seen.is_visible(p.artist.artist_id)][:n]
        except EngineError as error:
            raise SocialError(str(error)) from None
        return Blend(picks, tuple(kept), strategy, unavailable)

    # -- taste ------------------------------------------------------------------------------------

    async def compare(self, asker: int, other: int) -> TasteMatch:
        """How alike two members' tastes are, the artists they share, and their genres side by side."""
        if asker == other:
            raise SocialError("pick another member to compare your taste with")
        tastes = await self._tastes(asker, [asker, other])
        if other not in tastes:
            raise MembersUnavailable(private=[other])
        engine = self._engine()
        vectors = await self._vectors(engine, tastes)
        empty = [u for u in (asker, other) if vectors[u] is None]
        if empty:
            raise MembersUnavailable(empty=empty)
        calibration = await self.calibration(engine)
        compatibility = calibration.compatibility(vectors[asker], vectors[other])
        shared_ids = set(tastes[asker].liked) & set(tastes[other].liked)
        shared = sorted(
            (self.catalogue.get(a) for a in shared_ids if a in self.catalogue), key=lambda a: (-a.listeners, a.name)
        )
        genres = side_by_side(
            genre_profile(self.catalogue, tastes[asker].liked), genre_profile(self.catalogue, tastes[other].liked)
        )
        return TasteMatch(compatibility, shared, genres)

    async def neighbours(self, asker: int, guild_id: int) -> list[Neighbour]:
        """Every public member of the server with a taste, nearest to the asker's first."""
        engine = self._engine()
        own_taste = await self.store.likes.taste_of(asker)
        mine = await self._vectors(engine, {asker: own_taste})
        if mine[asker] is None:
            raise MembersUnavailable(empty=[asker], message=NO_TASTE_YET)
        candidates = [u for u in await self.store.guilds.guild_member_ids(guild_id, public_only=True) if u != asker]
        found_tastes = await self.store.likes.tastes_of(candidates)
        tastes = {u: found_tastes[u] for u in candidates if found_tastes[u].liked}
        vectors = await self._vectors(engine, tastes)
        ids = [u for u in tastes if vectors[u] is not None]
        if not ids:
            return []
        calibration = await self.calibration(engine)
        similarities = cosines_to(mine[asker], np.stack([vectors[u] for u in ids]))
        liked = set(own_taste.liked)
        found = [
            Neighbour(u, Compatibility(float(s), calibration.percentile(float(s))), len(liked & set(tastes[u].liked)))
            for u, s in zip(ids, similarities)
        ]
        return sorted(found, key=lambda nb: (-nb.compatibility.similarity, nb.user_id))

    # -- genres -----------------------------------------------------------------------------------

    async def genres(self, asker: int, member: int) -> list[tuple[str, float]]:
        """The member's genres, best first (shares sum to 1)."""
        tastes = await self._tastes(asker, [member])
        if member not in tastes:
            raise MembersUnavailable(private=[member])
        if not tastes[member].liked:
            raise MembersUnavailable(empty=[member])
        return genre_profile(self.catalogue, tastes[member].liked)

    # -- a server's trends ------------------------------------------------------------------------

    async def trending(self, guild_id: int, days: int = 7, n: int = 10, now: datetime | None = None) -> Trending:
        """What the server's public members liked in the last `days` days, and what rose against the
        `days` before; never an added artist the server's moderators removed."""
        if not 1 <= days <= MAX_TREND_DAYS:
            raise SocialError(f"days must be between 1 and {MAX_TREND_DAYS}")
        now = now or datetime.now(UTC)
        period = timedelta(days=days)
        current = await self.store.guilds.guild_like_counts(guild_id, now - period, now)
        before = await self.store.guilds.guild_like_counts(guild_id, now - 2 * period, now - period)
        seen = await self.artists.view(None, guild_id)
        known = {a: c for a, c in current.items() if a in self.catalogue and seen.is_visible(a)}

        def popularity(artist_id: int) -> tuple[int, str]:
            artist = self.catalogue.get(artist_id)
            return -artist.listeners, artist.name

        top = sorted(known, key=lambda a: (-known[a], *popularity(a)))[:n]
        risen = [a for a, c in known.items() if c > before.get(a, 0)]
        risen.sort(key=lambda a: (-(known[a] - before.get(a, 0)), -known[a], *popularity(a)))
        return Trending(
            days,
            [(self.catalogue.get(a), known[a]) for a in top],
            [(self.catalogue.get(a), known[a], before.get(a, 0)) for a in risen[:n]],
        )

    # -- who knows an artist here ----------------------------------------------------------------

    async def who_knows(self, guild_id: int, artist_id: int) -> list[int]:
        """The members of the server who like the artist, in id order: public members only, since a
        private member's likes are never shown to others (nor counted, which could single them out)."""
        found = await self.store.guilds.likers_in_guild(guild_id, [artist_id])
        return found.get(int(artist_id), {}).get("public", [])

    async def liked_here(self, guild_id: int, artist_ids: Sequence[int], *, asker: int) -> dict[int, int]:
        """Artist id -> how many public members of the server other than `asker` like it (one query)."""
        found = await self.store.guilds.likers_in_guild(guild_id, artist_ids)
        counts = {a: sum(1 for u in by.get("public", []) if u != asker) for a, by in found.items()}
        return {a: n for a, n in counts.items() if n}

    # -- the served model's caches --------------------------------------------------------------

    async def calibration(self, engine: Engine | None = None) -> PairCalibration:
        """Random pairs of Last.fm listeners for the served model, computed once per model (~0.4 s,
        in a worker thread)."""
        engine = engine or self._engine()
        cache = self._cache_for(engine)
        if cache.calibration is not None:
            return cache.calibration
        if self._calibrating is None:
            self._calibrating = asyncio.Lock()
        async with self._calibrating:
            if cache.calibration is None:
                cache.calibration = await asyncio.to_thread(calibrate, engine)
        return cache.calibration

    def _engine(self) -> Engine:
        return self.models.engine

    def _cache_for(self, engine: Engine) -> _EngineCache:
        cache = self._cache
        if cache is None or cache.engine() is not engine:
            cache = self._cache = _EngineCache(weakref.ref(engine))
        return cache

    async def _tastes(self, asker: int, members: Sequence[int]) -> dict[int, Taste]:
        """Tastes of the members who may take part: the asker, and the others whose privacy is public."""
        others = [u for u in members if u != asker]
        privacies = await self.store.members.privacies_of(others) if others else {}
        allowed = [u for u in members if u == asker or privacies.get(u) != "private"]
        tastes = await self.store.likes.tastes_of(allowed)
        return {u: tastes[u] for u in allowed}

    async def _vectors(self, engine: Engine, tastes: dict[int, Taste]) -> dict[int, np.ndarray | None]:
        """Each member's exact user vector (None: no like the model knows), cached per model and taste."""
        cache = self._cache_for(engine)
        out: dict[int, np.ndarray | None] = {}
        missing: dict[int, Taste] = {}
        for user_id, taste in tastes.items():
            hit = cache.vectors.get(user_id)
            if hit is not None and hit[0] == taste:
                out[user_id] = hit[1]
            else:
                missing[user_id] = taste
        if missing:
            if len(missing) > SOLVE_ON_LOOP:
                solved = await asyncio.to_thread(_solve_all, engine, missing)
            else:
                solved = _solve_all(engine, missing)
            if len(cache.vectors) + len(solved) > MAX_CACHED_VECTORS:
                cache.vectors.clear()
            for user_id, vector in solved.items():
                cache.vectors[user_id] = (missing[user_id], vector)
                out[user_id] = vector
        return out


def _solve_all(engine: Engine, tastes: dict[int, Taste]) -> dict[int, np.ndarray | None]:
    solved: dict[int, np.ndarray | None] = {}
    for user_id, taste in tastes.items():
        try:
            row = engine.likes_row(taste.liked, taste.not_interested, taste.plays)
        except EngineError:
            solved[user_id] = None
            continue
        user = engine.model.solve_row(row)
        solved[user_id] = None if user is None else user.vector
    return solved
