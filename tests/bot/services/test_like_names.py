"""/like with several names ("Radiohead, Björk, Portishead", bot/services/like_lists.py): liked in one go,
each unknown name reported, within the member's likes limit and among the artists this server sees (real
store, real served model)."""

from __future__ import annotations

import pytest

from bot.services.library import MAX_NAMES_AT_ONCE, LibraryError
from bot.services.like_lists import like_names
from tests.helpers.services import Services

USER = 41_414
SERVER_A, SERVER_B = 9_001, 9_002


def test_a_list_likes_every_known_name_once_and_reports_each_unknown_one(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            await library.like(USER, "Björk")
            found = await like_names(library, USER, "Radiohead, Björk, Qwzxv Blorp, Portishead, radiohead, Radioheed")
            assert [a.name for a in found.liked] == ["Radiohead", "Portishead"]
            assert [a.name for a in found.already] == ["Björk"]
            assert [e.query for e in found.unknown] == ["Qwzxv Blorp", "Radioheed"]
            assert "Radiohead" in [a.name for a in found.unknown[1].suggestions]
            assert found.over_limit == 0
            stored = {row.artist_id for row in await library.store.likes.likes_of(USER)}
            assert stored == {a.artist_id for a in (*found.liked, *found.already)}

    served.run(scenario)


def test_a_list_stops_at_the_likes_limit_and_says_how_many_were_left_out(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            library.max_likes = 3
            await library.like(USER, "Muse")
            found = await like_names(library, USER, "Radiohead, Muse, Björk, Portishead, Coldplay")
            assert [a.name for a in found.liked] == ["Radiohead", "Björk"]
            assert [a.name for a in found.already] == ["Muse"]
            assert found.over_limit == 2
            assert len(await library.store.likes.likes_of(USER)) == 3
            with pytest.raises(LibraryError, match="already like 3 artists"):
                await like_names(library, USER, "Portishead, Coldplay")

    served.run(scenario)


def test_a_list_only_finds_added_artists_the_server_sees(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            added = (await library.add_artist_and_like(USER + 1, "Totally Local Band", SERVER_A)).artist
            elsewhere = await like_names(library, USER, "Radiohead, Totally Local Band", SERVER_B)
            assert [a.name for a in elsewhere.liked] == ["Radiohead"]
            assert [e.query for e in elsewhere.unknown] == ["Totally Local Band"]
            assert added not in elsewhere.unknown[0].suggestions
            here = await like_names(library, USER, "Radiohead, Totally Local Band", SERVER_A)
            assert [a.artist_id for a in here.liked] == [added.artist_id]

    served.run(scenario)


def test_too_many_or_too_long_names_are_refused_before_anything_is_stored(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            many = ", ".join(f"Band {i}" for i in range(MAX_NAMES_AT_ONCE + 1))
            with pytest.raises(LibraryError, match=f"at most {MAX_NAMES_AT_ONCE} names"):
                await like_names(library, USER, many)
            with pytest.raises(LibraryError, match="at most 200 characters"):
                await like_names(library, USER, "Radiohead, " + "x" * 201)
            with pytest.raises(LibraryError, match="give an artist name"):
                await like_names(library, USER, " , ,")
            assert await library.store.likes.likes_of(USER) == []

    served.run(scenario)
