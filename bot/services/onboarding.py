"""/start's steps for a new member: music types, then artists of those types, liked in one go.

What the menus offer is recommender/onboarding.py's, read from the served catalogue's Last.fm artists
(seen in every server). A menu's custom id carries the chosen types as positions in the type list (the
list comes from the Last.fm data, so it is the same after a restart) and the page; every click is
checked against what that state offers, so a forged or out-of-date one is refused, not acted on.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import UserError
from bot.services.library import MemberLibrary
from recommender.catalogue import Artist
from recommender.engine import Recommendation
from recommender.onboarding import MAX_TYPES, OfferPage, music_types, offer_page, offers

__all__ = ["FIRST_RECOMMENDATIONS", "OnboardingError", "OnboardingService", "Picked"]

#: How many recommendations the last step shows.
FIRST_RECOMMENDATIONS = 10
#: Offer lists kept for type choices clicked lately (each is a few hundred artists).
CACHED_CHOICES = 256
#: Clicks that build offers for new types, or like and recommend, per member and window (as /recommend's
#: cooldown); "Show others" among offers already built is free.
CLICKS_PER_WINDOW, WINDOW_SECONDS = 5, 30.0
_CODES = re.compile(r"\d{1,2}(?:\.\d{1,2}){0,4}")


class OnboardingError(UserError):
    """A /start step that cannot be done; the message says what to do."""


@dataclass(frozen=True)
class Picked:
    """What one artist menu choice did: the new likes, those already there, how many the likes limit
    left out, and the member's first recommendations after them."""

    liked: list[Artist]
    already: list[Artist]
    over_limit: int
    recommendations: list[Recommendation]


class OnboardingService:
    def __init__(self, library: MemberLibrary, clock: Callable[[], float] = time.monotonic) -> None:
        self.library = library
        self._offers: OrderedDict[tuple[Any, tuple[str, ...]], list[Artist]] = OrderedDict()
        self._clock = clock
        self._clicks: OrderedDict[int, list[float]] = OrderedDict()

    def _spend(self, user_id: int) -> None:
        """Count one costly click of the member's, or refuse it if they made CLICKS_PER_WINDOW lately."""
        now = self._clock()
        recent = [t for t in self._clicks.pop(user_id, []) if now - t < WINDOW_SECONDS]
        if len(recent) >= CLICKS_PER_WINDOW:
            self._clicks[user_id] = recent
            wait = max(1, math.ceil(WINDOW_SECONDS - (now - recent[0])))
            raise OnboardingError(f"that is a lot of picking at once; try again in {wait} s.")
        self._clicks[user_id] = [*recent, now]
        while len(self._clicks) > CACHED_CHOICES * 16:
            self._clicks.popitem(last=False)

    @property
    def _catalogue(self) -> Any:
        # Offers are of Last.fm artists only; the served view is rebuilt as artists are added.
        catalogue = self.library.catalogue
        return getattr(catalogue, "base", catalogue)

    def types(self) -> list[str]:
        """The music types the first menu offers, most common first."""
        return music_types(self._catalogue)

    def chosen_types(self, values: Sequence[str]) -> list[str]:
        """The types a member chose in the first menu, in the menu's order; refused unless 1 to MAX_TYPES
        of the offered ones."""
        offered = self.types()
        if not 1 <= len(values) <= MAX_TYPES or not set(values) <= set(offered):
            raise OnboardingError(f"pick 1 to {MAX_TYPES} of the music types the menu offers; run /start again.")
        return [t for t in offered if t in set(values)]

    def encode(self, types: Sequence[str]) -> str:
        """The types as the custom id carries them: their positions in `types()`, joined by dots."""
        offered = self.types()
        return ".".join(str(offered.index(t)) for t in types)

    def decode(self, codes: str) -> list[str]:
        """The types a custom id names; OnboardingError for a forged or out-of-date one."""
        offered = self.types()
        if not _CODES.fullmatch(codes):
            raise OnboardingError("this menu is out of date; run /start again.")
        positions = list(dict.fromkeys(int(c) for c in codes.split(".")))
        if any(p >= len(offered) for p in positions):
            raise OnboardingError("this menu is out of date; run /start again.")
        return [offered[p] for p in positions]

    def offered(self, types: Sequence[str], user_id: int | None = None) -> list[Artist]:
        """Every artist the menus offer for these types, in order (recommender.onboarding.offers); building
        them anew counts as a costly click of `user_id`'s."""
        key = (self._catalogue, tuple(types))
        found = self._offers.get(key)
        if found is None:
            if user_id is not None:
                self._spend(user_id)
            found = self._offers[key] = offers(self._catalogue, types)
            while len(self._offers) > CACHED_CHOICES:
                self._offers.popitem(last=False)
        else:
            self._offers.move_to_end(key)
        return found

    def page(self, types: Sequence[str], page: int, user_id: int | None = None) -> OfferPage:
        found = offer_page(self.offered(types, user_id), page)
        if not found.artists:
            raise OnboardingError("Encore knows no artists of those types; run /start and pick others.")
        return found

    async def pick(
        self, user_id: int, types: Sequence[str], page: int, values: Sequence[str], guild_id: int | None
    ) -> Picked:
        """Like the artists chosen on page `page` of the types' offers in one go, then solve the member's
        first recommendations; refused for any value the page does not offer."""
        shown = {str(a.artist_id): a for a in self.page(types, page, user_id).artists}
        if not values or not set(values) <= set(shown):
            raise OnboardingError("that is not one of the artists this menu offers; run /start again.")
        self._spend(user_id)
        chosen = [shown[v].artist_id for v in dict.fromkeys(values)]
        liked, already, over = await self.library.like_several(user_id, chosen, guild_id)
        found = await self.library.recommend(user_id, FIRST_RECOMMENDATIONS, guild_id=guild_id)
        return Picked(liked, already, over, found)
