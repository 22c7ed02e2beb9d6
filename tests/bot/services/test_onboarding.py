"""OnboardingService (/start's steps) on a real store and served model: what the custom ids carry, the
checks on every click, liking in one go within the limit, and the cooldown on costly clicks."""

from __future__ import annotations

import pytest

from bot.services.onboarding import (
    CLICKS_PER_WINDOW,
    FIRST_RECOMMENDATIONS,
    WINDOW_SECONDS,
    OnboardingError,
    OnboardingService,
)
from recommender.onboarding import PAGE_SIZE, music_types
from tests.helpers.services import Services

USER = 52_525


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_types_travel_in_the_custom_id_as_positions_and_forged_ones_are_refused(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            onboarding = OnboardingService(library)
            assert onboarding.types() == music_types(library.catalogue.base)
            chosen = onboarding.chosen_types(["hip-hop", "rock", "electronic"])
            assert chosen == ["rock", "electronic", "hip-hop"], "in the menu's order"
            assert onboarding.decode(onboarding.encode(chosen)) == chosen
            for values in ([], ["rock", "seen live"], onboarding.types()[:6]):
                with pytest.raises(OnboardingError, match="pick 1 to 5"):
                    onboarding.chosen_types(values)
            for codes in ("99", "1.x", "1.2.3.4.5.6", "", "1..2"):
                with pytest.raises(OnboardingError, match="out of date"):
                    onboarding.decode(codes)

    served.run(scenario)


def test_a_pick_likes_the_chosen_artists_and_recommends_others_and_refuses_what_the_page_lacks(
    served: Services,
) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            onboarding = OnboardingService(library)
            types = onboarding.chosen_types(["metal", "folk"])
            first, second = onboarding.page(types, 0), onboarding.page(types, 1)
            assert len(first.artists) == PAGE_SIZE and not set(first.artists) & set(second.artists)
            with pytest.raises(OnboardingError, match="not one of the artists"):
                await onboarding.pick(USER, types, 0, [str(second.artists[0].artist_id)], None)
            with pytest.raises(OnboardingError, match="not one of the artists"):
                await onboarding.pick(USER, types, 0, [], None)
            assert await library.store.likes.likes_of(USER) == []

            chosen = [str(a.artist_id) for a in first.artists[:8]]
            picked = await onboarding.pick(USER, types, 0, chosen + chosen[:2], None)
            assert [str(a.artist_id) for a in picked.liked] == chosen and not picked.already
            assert {row.artist_id for row in await library.store.likes.likes_of(USER)} == {int(c) for c in chosen}
            recommended = {r.artist.artist_id for r in picked.recommendations}
            assert len(recommended) == FIRST_RECOMMENDATIONS and not recommended & {int(c) for c in chosen}

    served.run(scenario)


def test_a_pick_stops_at_the_likes_limit(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            library.max_likes = 3
            onboarding = OnboardingService(library)
            types = onboarding.chosen_types(["rock"])
            chosen = [str(a.artist_id) for a in onboarding.page(types, 0).artists[:5]]
            picked = await onboarding.pick(USER, types, 0, chosen, None)
            assert len(picked.liked) == 3 and picked.over_limit == 2
            assert len(await library.store.likes.likes_of(USER)) == 3

    served.run(scenario)


def test_costly_clicks_cool_down_per_member_and_paging_is_free(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            clock = Clock()
            onboarding = OnboardingService(library, clock=clock)
            menu = onboarding.types()
            for i in range(CLICKS_PER_WINDOW):
                onboarding.page([menu[i]], 0, USER)
            with pytest.raises(OnboardingError, match=r"try again in 30 s"):
                onboarding.page([menu[CLICKS_PER_WINDOW]], 0, USER)
            for page in range(4):
                onboarding.page([menu[0]], page, USER)  # offers built already: no cost
            onboarding.page([menu[CLICKS_PER_WINDOW]], 0, USER + 1)  # another member is not held back
            clock.now += WINDOW_SECONDS
            onboarding.page([menu[CLICKS_PER_WINDOW]], 0, USER)

    served.run(scenario)
