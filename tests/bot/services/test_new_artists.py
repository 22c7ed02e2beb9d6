"""Artists newer than the 2011 catalogue, added through the (fake) Last.fm API and served before any refit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from bot.app import App
from bot.lastfm.artists import ArtistLookupError
from bot.menus.likes import added_text, no_match_text
from bot.services.library import MemberLibrary, NoMatch
from bot.services.models import ModelService
from bot.services.new_artists import CATALOGUE_AGE, LOOKUPS_PER_WINDOW, LookupsTooFast
from fake_lastfm import Failure, FakeLastFm
from recommender.engine import PRUNED_FROM_ARTISTS
from tests.helpers.services import Services

SERVER_A, SERVER_B = 101, 202
ADDER, FAN, ELSEWHERE, POP_FAN, FAN_TOO = 5001, 5002, 5003, 5004, 5005
#: In the 2011 data, and among the artists the fake's Last.fm finds like Billie Eilish.
HER_NEIGHBOURS = ("Marina & the Diamonds", "Lykke Li", "Florence + the Machine", "The xx")
API_KEY = "0123456789abcdef0123456789abcdef"


@asynccontextmanager
async def with_lastfm(served: Services) -> AsyncIterator[tuple[FakeLastFm, ModelService, MemberLibrary]]:
    async with app_with_lastfm(served) as (fake, app):
        yield fake, app.models, app.library


@asynccontextmanager
async def app_with_lastfm(served: Services) -> AsyncIterator[tuple[FakeLastFm, App]]:
    """The App serving a copy of the base snapshot, with a Last.fm key for a fake Last.fm."""
    if not any(served.snapshot_dir.glob("2*")):
        served.seed_base_snapshot()
    async with FakeLastFm(api_key=API_KEY) as fake:
        base = fake.base_url.rstrip("/")
        async with served.app(start=True, lastfm_api_key=API_KEY, lastfm_api_base=base) as app:
            yield fake, app


def test_a_post_2011_artist_from_last_fm_is_recommended_and_explained_before_any_refit(
    served: Services, forbid_fitting: list[int]
) -> None:
    async def scenario() -> None:
        async with app_with_lastfm(served) as (fake, app):
            service, library = app.models, app.library
            served_version = service.state.snapshot.version
            with pytest.raises(NoMatch):
                await library.like(ADDER, "Billie Eilish", SERVER_A)
            added = await library.add_artist_and_like(ADDER, "billie eilish", SERVER_A)
            billie = added.artist
            assert billie.name == "Billie Eilish" and billie.artist_id not in served.data.catalogue
            assert billie.url == "https://www.last.fm/music/Billie+Eilish"
            assert added.lastfm == "found" and added.counts_now
            assert {a.name for a in added.placed_beside} >= set(HER_NEIGHBOURS)
            # Last.fm's tags through the catalogue's vocabulary: "seen live" is about listeners, not music.
            tags = library.catalogue.top_tags(billie.artist_id, 10)
            assert "pop" in tags and "seen live" not in tags
            text = added_text(added, tags[:3])
            assert text.startswith("Added Billie Eilish as a new artist from Last.fm (pop")
            assert "so they count now" in text and "Marina" in text

            for name in HER_NEIGHBOURS:
                await library.like(FAN, name, SERVER_A)
            found = await library.recommend(FAN, 10, guild_id=SERVER_A)
            hers = next((r for r in found if r.artist.artist_id == billie.artist_id), None)
            assert hers is not None, [r.artist.name for r in found]
            assert hers.because and {a.name for a in hers.because} <= set(HER_NEIGHBOURS)
            why = (await library.explain(FAN, "Billie Eilish", SERVER_A)).sentences()
            because = next(line for line in why if line.startswith("Because you like"))
            assert any(name in because for name in HER_NEIGHBOURS), why
            _, like_her = await library.similar(FAN, "Billie Eilish", 10, guild_id=SERVER_A)
            assert {a.name for a, _ in like_her} & set(HER_NEIGHBOURS)
            # Blended for two members who like her neighbours, too.
            for name in HER_NEIGHBOURS[:2]:
                await library.like(FAN_TOO, name, SERVER_A)
            blend = await app.social.blend(FAN, [FAN, FAN_TOO], 10, guild_id=SERVER_A)
            assert billie.artist_id in {p.artist.artist_id for p in blend.picks}
            for_fan_too = [r.artist.artist_id for r in await library.recommend(FAN_TOO, 20, guild_id=SERVER_A)]

            # A member of other tastes is not offered her; another server does not see her at all.
            for name in ("Britney Spears", "Rihanna", "Katy Perry"):
                await library.like(POP_FAN, name, SERVER_A)
            assert billie.artist_id not in {
                r.artist.artist_id for r in await library.recommend(POP_FAN, 10, guild_id=SERVER_A)
            }
            for name in HER_NEIGHBOURS:
                await library.like(ELSEWHERE, name, SERVER_B)
            elsewhere = await library.recommend(ELSEWHERE, 100, guild_id=SERVER_B)
            assert billie.artist_id not in {r.artist.artist_id for r in elsewhere}
            with pytest.raises(NoMatch):
                await library.like(ELSEWHERE, "Billie Eilish", SERVER_B)

            # Added again (by another member, in Last.fm's spelling): the one artist, no second lookup.
            asked = len(fake.requests)
            again = await library.add_artist_and_like(FAN, "Billie Eilish", SERVER_A)
            assert again.artist.artist_id == billie.artist_id and again.counts_now
            assert len(fake.requests) == asked
            assert service.state.snapshot.version == served_version and forbid_fitting == []

            # Placed engines score densely at once; the pruned scorer's engine takes over once built.
            for _ in range(1200):
                if service.engine.pruned_from_artists == PRUNED_FROM_ARTISTS:
                    break
                await asyncio.sleep(0.05)
            assert service.engine.pruned_from_artists == PRUNED_FROM_ARTISTS
            assert service.engine.interactions.artist_column(billie.artist_id) is not None
            again = await library.recommend(FAN_TOO, 20, guild_id=SERVER_A)
            assert [r.artist.artist_id for r in again] == for_fan_too

    served.run(scenario)


def test_a_restart_places_the_artist_again_and_a_refit_learns_it(served: Services) -> None:
    async def scenario() -> None:
        async with with_lastfm(served) as (_, service, library):
            billie = (await library.add_artist_and_like(ADDER, "Billie Eilish", SERVER_A)).artist
            for name in HER_NEIGHBOURS:
                await library.like(FAN, name, SERVER_A)
            placed = service.engine.model.item_factors[service.engine.interactions.artist_column(billie.artist_id)]

        # Restarted on the same snapshot, before any refit: placed again from the book, without Last.fm.
        async with with_lastfm(served) as (fake, service, library):
            assert service.state.snapshot.interactions.artist_column(billie.artist_id) is None
            found = await library.recommend(FAN, 10, guild_id=SERVER_A)
            assert billie.artist_id in {r.artist.artist_id for r in found}
            column = service.engine.interactions.artist_column(billie.artist_id)
            np.testing.assert_allclose(service.engine.model.item_factors[column], placed, rtol=1e-6)
            assert "pop" in library.catalogue.top_tags(billie.artist_id)
            assert fake.requests == []

            assert await service.refit() is not None
            snapshot = service.state.snapshot
            column = snapshot.interactions.artist_column(billie.artist_id)
            assert column is not None  # learned from the members' likes, no longer placed
            engine = service.engine
            assert engine.interactions.artist_column(billie.artist_id) == column
            assert engine.model.n_items == snapshot.model.n_items
            np.testing.assert_array_equal(engine.model.item_factors[column], snapshot.model.item_factors[column])
            assert not np.allclose(engine.model.item_factors[column], placed)
            assert "pop" in library.catalogue.top_tags(billie.artist_id)

    served.run(scenario)


def test_an_artist_last_fm_lacks_is_added_as_typed_and_waits_for_a_refit(served: Services) -> None:
    async def scenario() -> None:
        async with with_lastfm(served) as (fake, _, library):
            added = await library.add_artist_and_like(ADDER, "Glorptastic Unheard Ensemble", SERVER_A)
            assert added.lastfm == "unknown" and not added.counts_now and added.placed_beside == ()
            assert added.artist.name == "Glorptastic Unheard Ensemble"
            text = added_text(added, [])
            assert text.startswith("Added Glorptastic Unheard Ensemble as a new artist as you wrote it")
            assert "Last.fm does not know" in text and "next refit" in text

            # Last.fm failing adds nothing: the member is told to try again.
            fake.fail(Failure.SERVICE_OFFLINE)
            with pytest.raises(ArtistLookupError) as raised:
                await library.add_artist_and_like(ADDER, "Glass Animals", SERVER_A)
            assert "try adding that artist again" in str(raised.value)
            assert library.catalogue.visible_in(SERVER_A).lookup("Glass Animals") is None
            fake.recover_all()

            # A catalogue name is liked as it is, without asking Last.fm.
            asked = len(fake.requests)
            liked = await library.add_artist_and_like(ADDER, "Radiohead", SERVER_A)
            assert liked.artist.artist_id in served.data.catalogue and len(fake.requests) == asked

            # Lookups are cooled down per member.
            for i in range(LOOKUPS_PER_WINDOW):
                await library.add_artist_and_like(POP_FAN, f"Nobody Knows Band {i}", SERVER_A)
            with pytest.raises(LookupsTooFast):
                await library.add_artist_and_like(POP_FAN, "Glass Animals", SERVER_A)
            assert (await library.add_artist_and_like(FAN, "Glass Animals", SERVER_A)).counts_now

    served.run(scenario)


def test_without_a_key_the_reply_says_the_catalogue_is_from_2011_and_how_to_add_anyway(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            assert not library.new_artists.enabled
            added = await library.add_artist_and_like(ADDER, "Billie Eilish", SERVER_A)
            assert added.lastfm == "off" and not added.counts_now
            text = added_text(added, [])
            assert CATALOGUE_AGE in text and "after the next refit" in text

    served.run(scenario)
    offline = no_match_text("Billie Eilish", lookups_on=False)
    assert offline.startswith("No artist called “Billie Eilish”.")
    assert "Encore's catalogue comes from Last.fm's 2011 data" in offline and "adds “Billie Eilish” anyway" in offline
    assert "looks “Billie Eilish” up on Last.fm" in no_match_text("Billie Eilish", lookups_on=True)
