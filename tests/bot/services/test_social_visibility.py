"""/blend and /trending offer an added artist only where it is seen, as /recommend does."""

from __future__ import annotations

import pytest

import bot.services.social
from bot.services.social import SocialService
from recommender.groups import GroupRecommendation
from tests.helpers.services import Services

SERVER_A, SERVER_B = 111, 222
ADDER, FAN = 9001, 9002
BLENDERS = (9003, 9004)
NAME = "Quillfeather Unheard Collective"


def test_an_artist_added_in_one_server_is_never_blended_in_another(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    added: list[int] = []
    blend = bot.services.social.recommend_for_group

    def ranks_the_added_artist_first(engine, rows, n=10, strategy="average"):
        # No blend of two members would reach an artist one member likes: have the model rank it first,
        # so that only visibility decides whether it is shown.
        found = [p for p in blend(engine, rows, n, strategy) if p.artist.artist_id not in added]
        picks = [GroupRecommendation(engine.catalogue.get(a), 1.0, (1.0,) * len(rows), 0, 0) for a in added]
        return picks + found[: n - len(picks)]

    monkeypatch.setattr(bot.services.social, "recommend_for_group", ranks_the_added_artist_first)

    async def scenario() -> None:
        async with served.library() as (service, library):
            social = SocialService(service.store, service)
            new = (await library.add_artist_and_like(ADDER, NAME, SERVER_A)).artist
            added.append(new.artist_id)
            for member, guild in zip(BLENDERS, (SERVER_A, SERVER_B), strict=True):
                for name in ("Radiohead", "Björk", "Portishead"):
                    await library.like(member, name, guild)

            here = await social.blend(BLENDERS[0], BLENDERS, n=5, guild_id=SERVER_A)
            assert here.picks[0].artist == new
            elsewhere = await social.blend(BLENDERS[0], BLENDERS, n=5, guild_id=SERVER_B)
            assert len(elsewhere.picks) == 5 and new not in [p.artist for p in elsewhere.picks]
            anywhere = await social.blend(BLENDERS[0], BLENDERS, n=5)
            assert new not in [p.artist for p in anywhere.picks]

    served.run(scenario)


def test_trending_leaves_out_an_artist_the_servers_moderators_removed(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (service, library):
            social = SocialService(service.store, service)
            new = (await library.add_artist_and_like(ADDER, NAME, SERVER_A)).artist
            await library.like(FAN, "Radiohead", SERVER_A)
            # Liked in a DM too, so removing it in server A hides it there rather than deleting it.
            await library.like_artist_id(FAN, new.artist_id)
            before = await social.trending(SERVER_A, 7)
            assert new in [a for a, _ in before.top] and new in [a for a, _, _ in before.rising]

            removed = await library.artists.remove(SERVER_A, NAME)
            assert removed is not None and removed.removal == "hidden"
            after = await social.trending(SERVER_A, 7)
            assert [a.name for a, _ in after.top] == ["Radiohead"]
            assert [a.name for a, _, _ in after.rising] == ["Radiohead"]

    served.run(scenario)
