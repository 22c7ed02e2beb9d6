"""MemberLibrary: likes and "not interested" marks count in the very next recommendation, no refit needed."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from bot.services.library import MAX_NAME_LENGTH, LibraryError, MemberLibrary, NoMatch, parse_liked_names
from db.models import MEMBER_ARTIST_ID_BASE
from recommender.catalogue import Artist, ArtistCatalogue
from recommender.engine import Engine
from recommender.merge import member_key
from recommender.text import normalize_name
from tests.helpers.db import add_member, lastfm_link_of, link_lastfm
from tests.helpers.services import RealData, Services

USER = 31_337


def artist(data: RealData, name: str) -> Artist:
    found = data.catalogue.lookup(name)
    assert found is not None, name
    return found


def names_only_library(data: RealData) -> MemberLibrary:
    """A library with no store: any call that reached the store would fail with AttributeError."""
    return MemberLibrary(store=None, models=SimpleNamespace(catalogue=data.catalogue))  # type: ignore[arg-type]


# -- freshness: the key requirement ---------------------------------------------------------


def test_a_new_like_counts_in_the_very_next_recommendation(served: Services, forbid_fitting: list[int]) -> None:
    data = served.data
    radiohead, bjork = artist(data, "Radiohead"), artist(data, "Björk")

    async def scenario() -> None:
        async with served.library() as (service, library):
            version = service.state.snapshot.version
            assert (await library.like(USER, "Radiohead")).artist == radiohead
            assert (await library.like(USER, "björk")).artist == bjork
            first = await library.recommend(USER, 10)
            assert len(first) == 10
            assert not {r.artist for r in first} & {radiohead, bjork}
            assert all(r.because for r in first)

            top = first[0]
            explanation = await library.explain(USER, top.artist.name)
            assert explanation.rank == 1 and not explanation.already_liked
            assert explanation.score == pytest.approx(top.score, abs=1e-4)

            liked = await library.like(USER, top.artist.name)
            assert liked.new and liked.artist == top.artist
            second = await library.recommend(USER, 10)
            assert top.artist not in [r.artist for r in second]
            assert [r.artist for r in second] != [r.artist for r in first]
            # Not merely filtered out: the like changed the solve, so shared artists score differently.
            before = {r.artist: r.score for r in first}
            common = [r for r in second if r.artist in before]
            assert common and any(abs(r.score - before[r.artist]) > 1e-6 for r in common)
            assert (await library.explain(USER, top.artist.name)).already_liked

            assert service.state.snapshot.version == version  # no refit happened
            assert member_key(USER) not in service.state.snapshot.interactions.user_keys.tolist()

    served.run(scenario)
    assert forbid_fitting == []


def test_not_interested_counts_in_the_very_next_recommendation(served: Services, forbid_fitting: list[int]) -> None:
    async def scenario() -> None:
        async with served.library() as (service, library):
            await library.like(USER, "Radiohead")
            await library.like(USER, "Björk")
            first = await library.recommend(USER, 10)
            marked = first[2].artist
            assert await library.not_interested(USER, marked.artist_id) is True
            assert await library.not_interested(USER, marked.artist_id) is False  # once is enough
            second = await library.recommend(USER, 10)
            assert marked not in [r.artist for r in second]
            assert len(second) == 10
            explanation = await library.explain(USER, marked.name)
            assert explanation.not_interested and explanation.rank is None
            # Liking it after all clears the mark.
            await library.like(USER, marked.name)
            assert (await service.store.likes.taste_of(USER)).not_interested == ()

    served.run(scenario)
    assert forbid_fitting == []


def test_unlike_counts_in_the_very_next_recommendation(served: Services, forbid_fitting: list[int]) -> None:
    data = served.data
    muse = artist(data, "Muse")

    async def scenario() -> None:
        async with served.library() as (_, library):
            for name in ("Radiohead", "Björk", "Muse"):
                await library.like(USER, name)
            first = await library.recommend(USER, 10)
            assert any(muse in r.because for r in first)
            removed = await library.unlike(USER, "muse")
            assert removed.new is True and removed.artist == muse
            assert (await library.unlike(USER, "Muse")).new is False  # nothing left to remove
            assert {a.name for a in await library.liked_artists(USER)} == {"Radiohead", "Björk"}
            second = await library.recommend(USER, 10)
            assert not any(muse in r.because for r in second)
            assert [r.artist for r in second] != [r.artist for r in first]
            assert not (await library.explain(USER, "Muse")).already_liked

    served.run(scenario)
    assert forbid_fitting == []


def test_recommend_without_likes_says_to_use_like(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            with pytest.raises(LibraryError, match="/like") as error:
                await library.recommend(USER)
            assert not isinstance(error.value, NoMatch)
            with pytest.raises(LibraryError, match="/like"):
                await library.explain(USER, "Radiohead")

    served.run(scenario)


# -- names as members type them ---------------------------------------------------------------------


def test_an_unknown_name_is_no_match_with_suggestions(real_data: RealData) -> None:
    library = names_only_library(real_data)
    with pytest.raises(NoMatch) as error:
        library.resolve("Radioheed")
    assert error.value.query == "Radioheed"
    assert error.value.suggestions and all(isinstance(a, Artist) for a in error.value.suggestions)
    assert "Radiohead" in [a.name for a in error.value.suggestions]
    with pytest.raises(NoMatch) as error:
        library.resolve("Qwxzv Plorbnik Unheard Ensemble 9000")
    assert len(error.value.suggestions) > 0


@pytest.mark.parametrize(
    "name",
    ["", "   ", "\t\n", "\u200b", "\u200b\u200c\u200d", "\ufeff \u2060", "\u202e\u2066"],
    ids=["empty", "spaces", "tab-newline", "zwsp", "zero-widths", "bom-wordjoiner", "bidi"],
)
def test_an_empty_name_is_refused_before_the_store(real_data: RealData, name: str) -> None:
    library = names_only_library(real_data)
    with pytest.raises(LibraryError) as error:
        library.resolve(name)
    assert type(error.value) is LibraryError  # not a NoMatch listing the most popular artists
    for call in (library.like(USER, name), library.unlike(USER, name), library.add_artist_and_like(USER, name)):
        with pytest.raises(LibraryError) as error:
            asyncio.run(call)
        assert type(error.value) is LibraryError


@pytest.mark.parametrize("name", ["a" * 1000, "Radiohead " * 100, "x" * (MAX_NAME_LENGTH + 1)])
def test_an_overlong_name_is_refused(real_data: RealData, name: str) -> None:
    library = names_only_library(real_data)
    with pytest.raises(LibraryError, match=str(MAX_NAME_LENGTH)) as error:
        library.resolve(name)
    assert type(error.value) is LibraryError
    for call in (library.like(USER, name), library.add_artist_and_like(USER, name)):
        with pytest.raises(LibraryError):
            asyncio.run(call)


def test_a_name_of_exactly_the_limit_is_looked_up(real_data: RealData) -> None:
    with pytest.raises(NoMatch):
        names_only_library(real_data).resolve("q" * MAX_NAME_LENGTH)


@pytest.mark.parametrize(
    "name",
    [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@&123456789012345678>",
        "**Radiohead**",
        "__Björk__",
        "`rm -rf /`",
        "||spoiler||",
        "> quoted",
        "[click](https://evil.example)",
        "~~Muse~~",
        "# Heading",
        "*",
    ],
)
def test_mentions_and_markdown_do_not_crash(real_data: RealData, name: str) -> None:
    library = names_only_library(real_data)
    try:
        found = library.resolve(name)
    except NoMatch as error:
        assert all(isinstance(a, Artist) for a in error.suggestions)
    else:
        assert isinstance(found, Artist)


def test_markdown_around_a_name_still_finds_the_artist(real_data: RealData) -> None:
    library = names_only_library(real_data)
    assert library.resolve("**Radiohead**") == artist(real_data, "Radiohead")
    assert library.resolve("  radiohead\u200b ") == artist(real_data, "Radiohead")


# -- artists the catalogue lacks --------------------------------------------------------------------


def test_add_artist_and_like_a_brand_new_artist(served: Services) -> None:
    data = served.data

    async def scenario() -> None:
        async with served.library() as (service, library):
            result = await library.add_artist_and_like(77, "  Zzyzx   Quartet of\u200b Tests ")
            new = result.artist
            assert result.new is True
            assert new.name == "Zzyzx Quartet of Tests" and new.artist_id >= MEMBER_ARTIST_ID_BASE
            assert new.artist_id not in data.catalogue
            assert [row.artist_id for row in await service.store.likes.likes_of(77)] == [new.artist_id]
            assert library.resolve("zzyzx quartet of tests", await library.catalogue_for(77, None)) == new
            # Added in a DM: the adder's own, no one else's.
            with pytest.raises(NoMatch):
                library.resolve("zzyzx quartet of tests", await library.catalogue_for(76, None))
            assert [a.artist_id for a in await library.liked_artists(77)] == [new.artist_id]
            row = await service.store.artists.get_artist(new.artist_id)
            assert row is not None and row.source == "member"
            assert row.normalized_name == normalize_name("Zzyzx Quartet of Tests")

            # The same name again: same artist; a like by another member is new, a repeat is not.
            assert (await library.add_artist_and_like(77, "ZZYZX quartet of tests")).new is False
            other = await library.add_artist_and_like(78, "Zzyzx Quartet of Tests")
            assert other.artist == new and other.new is True
            assert (await service.store.counts())["member_artists"] == 1

            # A name the catalogue has is not added twice.
            existing = await library.add_artist_and_like(79, "radiohead")
            assert existing.artist == artist(data, "Radiohead")
            assert (await service.store.counts())["member_artists"] == 1

            # The model learns of the new artist at the next refit; until then it is no basis...
            with pytest.raises(LibraryError):
                await library.recommend(77)
            # ...but does not get in the way of the member's other likes.
            await library.like(77, "Radiohead")
            assert len(await library.recommend(77, 5)) == 5

    served.run(scenario)


def test_twenty_concurrent_adds_after_300_never_rebuild_the_catalogue(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[str] = []
    original_init, original_extended = ArtistCatalogue.__init__, ArtistCatalogue.extended

    def init(self, *args, **kwargs):
        builds.append("built")
        original_init(self, *args, **kwargs)

    def extended(self, artists):
        builds.append("extended")
        return original_extended(self, artists)

    async def scenario() -> None:
        async with served.library() as (service, library):
            catalogue = library.catalogue
            monkeypatch.setattr(ArtistCatalogue, "__init__", init)
            monkeypatch.setattr(ArtistCatalogue, "extended", extended)
            library.max_added_artists_per_day = 1_000  # seven members add all 300
            for i in range(300):
                await library.add_artist_and_like(1_000 + i % 7, f"Unheard Band Number {i}", guild_id=i % 5)
            burst = await asyncio.gather(
                *(library.add_artist_and_like(2_000 + i, f"Burst Band {i}", guild_id=9) for i in range(20))
            )
            assert all(result.new for result in burst)
            assert builds == [], "adding an artist built or copied a catalogue"
            # The one serving catalogue, over the very Last.fm catalogue it started with.
            assert library.catalogue is catalogue and catalogue.base is served.data.catalogue
            assert len(catalogue.members) == 320
            seen = await library.catalogue_for(None, 9)
            # Concurrent adds take ids in the order they commit, so compare sets.
            expected = {"Burst Band 1", *(f"Burst Band {i}" for i in range(10, 20))}
            assert {a.name for a in seen.search("burst band 1", 11)} == expected

    served.run(scenario)


def test_an_artist_added_while_a_refit_swaps_in_is_not_lost(served: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Engine.prepare
    in_swap, release = threading.Event(), threading.Event()

    def prepare(self):
        # Hold the swap (which prepares the new engine in a worker thread) until the member has added theirs.
        if threading.current_thread() is not threading.main_thread() and not in_swap.is_set():
            in_swap.set()
            release.wait(10)
        return original(self)

    monkeypatch.setattr(Engine, "prepare", prepare)

    async def scenario() -> None:
        async with served.library() as (service, library):
            # Someone (another process, say) added an artist the next snapshot will hold.
            first = await service.store.artists.add_member_artist(
                "First Unheard Band", normalize_name("First Unheard Band")
            )
            await service.store.likes.like(1, first)
            await service.store.likes.like(1, artist(served.data, "Radiohead").artist_id)
            refit = asyncio.create_task(service.refit())
            assert await asyncio.to_thread(in_swap.wait, 30), "the refit never swapped a snapshot in"
            # While the swap extends the catalogue, a member adds another artist.
            second = await library.add_artist_and_like(2, "Second Unheard Band")
            release.set()
            assert await refit is not None
            assert library.resolve("First Unheard Band", await library.catalogue_for(1, None)).artist_id == first
            assert library.resolve("Second Unheard Band", await library.catalogue_for(2, None)) == second.artist
            assert [a.name for a in await library.liked_artists(2)] == ["Second Unheard Band"]

    try:
        served.run(scenario)
    finally:
        release.set()


# -- forget -----------------------------------------------------------------------------------------


def test_forget_removes_every_row_and_the_next_refit_drops_the_member(served: Services) -> None:
    data = served.data
    radiohead, coldplay = artist(data, "Radiohead"), artist(data, "Coldplay")
    other = USER + 1

    async def scenario() -> None:
        async with served.library() as (service, library):
            store = service.store
            await add_member(store, USER, 5, "a server")
            await library.like(USER, "Radiohead", guild_id=5)
            await library.like(USER, "Björk", guild_id=5)
            await library.not_interested(USER, coldplay.artist_id)
            await store.members.set_privacy(USER, "private")
            await link_lastfm(store, USER, "someone")
            await library.like(other, "Radiohead")
            assert await service.refit() is not None
            assert member_key(USER) in service.state.snapshot.interactions.user_keys.tolist()
            before = await store.counts()

            removed = await library.forget(USER)

            assert removed == {
                "likes": 2,
                "not_interested": 1,
                "memberships": 1,
                "lastfm_links": 1,
                "users": 1,
                "artists": 0,
                "session_votes": 0,
                "session_members": 0,
            }
            assert await store.likes.likes_of(USER) == []
            assert (await store.likes.taste_of(USER)).not_interested == ()
            assert await store.members.privacy_of(USER) == "public"  # the default: nothing is stored
            assert await lastfm_link_of(store, USER) is None
            assert all(row[0] != USER for row in await store.likes.all_likes())
            after = await store.counts()
            assert after["members"] == before["members"] - 1
            assert after["likes"] == before["likes"] - 2
            assert after["not_interested"] == before["not_interested"] - 1
            assert after["lastfm_links"] == before["lastfm_links"] - 1
            assert after["guilds"] == before["guilds"]  # the server is not about the member
            assert [row.artist_id for row in await store.likes.likes_of(other)] == [radiohead.artist_id]
            with pytest.raises(LibraryError, match="/like"):
                await library.recommend(USER)
            assert await library.forget(USER) == dict.fromkeys(removed, 0)

            assert await service.refit_if_due(now=service.last_refit_at + 10**6) is True
            keys = service.state.snapshot.interactions.user_keys.tolist()
            assert member_key(USER) not in keys
            assert member_key(other) in keys

    served.run(scenario)


# -- a comma-separated likes list (shared with `encore recommend --likes`) ---------------------------


def test_parse_liked_names_keeps_names_with_commas_whole_and_suggests_for_the_rest(real_data: RealData) -> None:
    catalogue = real_data.catalogue
    found, unknown = parse_liked_names("Radiohead, radiohead ,, Björk, Radioheed", catalogue)
    assert found == [artist(real_data, "Radiohead"), artist(real_data, "Björk")]
    assert [e.query for e in unknown] == ["Radioheed"]
    assert unknown[0].suggestions == tuple(catalogue.suggestions("Radioheed", 3))
    comma_name = next((a for a in catalogue if ", " in a.name), None)
    if comma_name is not None:
        found, unknown = parse_liked_names(f"{comma_name.name}, Radiohead", catalogue)
        assert found[0] == catalogue.lookup(comma_name.name) and not unknown


def test_likes_stop_at_the_per_member_cap_and_nothing_past_it_is_stored(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (_, library):
            library.max_likes = 3
            for name in ("Radiohead", "Björk", "Muse"):
                assert (await library.like(USER, name)).new
            with pytest.raises(LibraryError, match="already like 3 artists"):
                await library.like(USER, "Coldplay")
            assert not (await library.like(USER, "Muse")).new, "a repeated like is not a new one"
            assert len(await library.store.likes.likes_of(USER)) == 3
            await library.unlike(USER, "Muse")
            assert (await library.like(USER, "Coldplay")).new

    served.run(scenario)
