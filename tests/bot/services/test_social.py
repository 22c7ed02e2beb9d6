"""SocialService: blends, taste compatibility, neighbours, trends and genres over a real store and model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.services.social import MembersUnavailable, SocialError, SocialService
from db.models import likes
from tests.helpers.db import add_member
from tests.helpers.services import Services

GUILD = 4242
ART_POP = ("Radiohead", "Björk", "Portishead", "Massive Attack")
METAL = ("Metallica", "Slayer", "Iron Maiden", "Megadeth")


async def like_all(service, user_id: int, names, guild_id: int | None = GUILD) -> None:
    for name in names:
        await service.store.likes.like(user_id, service.catalogue.lookup(name).artist_id, guild_id=guild_id)


def test_blend_recommends_new_artists_and_says_whom_each_suits(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, ART_POP)
            await like_all(service, 2, METAL)
            await like_all(service, 3, ("Radiohead", "Muse", "Coldplay"))
            blend = await social.blend(1, [1, 2, 3], n=8)
            assert blend.members == (1, 2, 3) and len(blend.picks) == 8 and blend.left_out is None
            held = {service.catalogue.lookup(n).artist_id for n in ART_POP + METAL + ("Muse", "Coldplay")}
            assert not {p.artist.artist_id for p in blend.picks} & held
            assert all(0 <= p.suits_most < 3 and 0 <= p.suits_least < 3 for p in blend.picks)
            misery = await social.blend(1, [1, 2, 3], n=8, strategy="least-misery")
            assert misery.strategy == "least-misery"
            with pytest.raises(SocialError):
                await social.blend(1, [1], n=5)
            with pytest.raises(SocialError):
                await social.blend(1, [1, 2], strategy="borda")

    served.run(scenario)


def test_blend_names_private_and_empty_members_or_leaves_them_out(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, ART_POP)
            await like_all(service, 2, METAL)
            await like_all(service, 3, ("Muse",))
            await service.store.members.set_privacy(3, "private")
            await add_member(service.store, 4, GUILD)  # no likes
            with pytest.raises(MembersUnavailable) as caught:
                await social.blend(1, [1, 2, 3, 4])
            assert caught.value.private == (3,) and caught.value.empty == (4,)
            voice = await social.blend(1, [1, 2, 3, 4], skip_unavailable=True)
            assert voice.members == (1, 2) and voice.left_out.private == (3,)
            # The asker may blend even when their own privacy is private.
            await service.store.members.set_privacy(1, "private")
            assert (await social.blend(1, [1, 2])).members == (1, 2)

    served.run(scenario)


def test_compare_calibrates_alike_and_unlike_and_lists_shared_artists(
    served: Services, forbid_fitting: list[int]
) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, ART_POP)
            await like_all(service, 2, ("Radiohead", "Portishead", "Sigur Rós", "Air"))
            await like_all(service, 3, METAL)
            close = await social.compare(1, 2)
            far = await social.compare(1, 3)
            assert close.compatibility.percentile > far.compatibility.percentile
            assert close.compatibility.percent >= 80, close.compatibility
            assert [a.name for a in close.shared] == ["Radiohead", "Portishead"]
            assert far.shared == []
            assert close.genres and all(len(row) == 3 for row in close.genres)
            # One calibration per served model, reused.
            assert await social.calibration() is await social.calibration()
            with pytest.raises(SocialError):
                await social.compare(1, 1)
            await service.store.members.set_privacy(3, "private")
            with pytest.raises(MembersUnavailable) as caught:
                await social.compare(1, 3)
            assert caught.value.private == (3,)
            with pytest.raises(MembersUnavailable) as caught:
                await social.compare(9, 2)
            assert caught.value.empty == (9,)

    served.run(scenario)


def test_neighbours_ranks_public_members_of_the_server(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, ART_POP)
            await like_all(service, 2, ("Radiohead", "Portishead", "Sigur Rós"))
            await like_all(service, 3, METAL)
            await like_all(service, 4, ART_POP)  # identical taste, but private
            await service.store.members.set_privacy(4, "private")
            await like_all(service, 5, ART_POP, guild_id=999)  # another server
            found = await social.neighbours(1, GUILD)
            assert [n.user_id for n in found] == [2, 3]
            assert found[0].shared == 2 and found[1].shared == 0
            assert found[0].compatibility.similarity > found[1].compatibility.similarity
            with pytest.raises(MembersUnavailable):
                await social.neighbours(77, GUILD)

    served.run(scenario)


def test_trending_counts_members_and_finds_the_risers(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, ("Radiohead", "Muse"))
            await like_all(service, 2, ("Radiohead",))
            await like_all(service, 3, ("Muse", "Air"))
            now = datetime.now(UTC) + timedelta(seconds=1)
            # Member 3's likes of Muse and Air were ten days ago: the week before.
            async with service.store.engine.begin() as conn:
                await conn.execute(
                    update(likes).where(likes.c.user_id == 3).values(created_at=now - timedelta(days=10))
                )
            trends = await social.trending(GUILD, 7, now=now)
            assert [(a.name, c) for a, c in trends.top] == [("Radiohead", 2), ("Muse", 1)]
            assert [(a.name, c, b) for a, c, b in trends.rising] == [("Radiohead", 2, 0)]
            fortnight = await social.trending(GUILD, 14, now=now)
            assert dict((a.name, c) for a, c in fortnight.top) == {"Radiohead": 2, "Muse": 2, "Air": 1}
            with pytest.raises(SocialError):
                await social.trending(GUILD, 0)

    served.run(scenario)


def test_genres_respect_privacy_and_need_likes(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, _):
            social = SocialService(service.store, service)
            await like_all(service, 1, METAL)
            genres = dict(await social.genres(2, 1))
            assert max(genres, key=genres.get) in {"metal", "thrash metal", "heavy metal"}
            await service.store.members.set_privacy(1, "private")
            assert await social.genres(1, 1)  # their own
            with pytest.raises(MembersUnavailable):
                await social.genres(2, 1)
            with pytest.raises(MembersUnavailable):
                await social.genres(2, 2)

    served.run(scenario)
