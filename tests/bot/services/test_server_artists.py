"""Added artists stay in the servers that added or liked them, until three servers did; spam names are refused."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.services.library import MemberLibrary, NoMatch
from bot.services.server_artists import RemovedByModerators, UnacceptableName, check_new_artist_name
from recommender.catalogue import Artist
from recommender.engine import Engine, Recommendation
from recommender.member_artists import CatalogueView, MemberArtists
from tests.helpers.services import RealData, Services

SERVER_A, SERVER_B, SERVER_C, SERVER_D = 101, 202, 303, 404
ADDERS = (5001, 5003, 5004)
VIEWER, NEIGHBOUR = 5002, 5005
NAME = "Glorptastic Unheard Ensemble"


def niche_artist(data: RealData) -> Artist:
    """A Last.fm artist with one listener and a name that finds only it: the added artist's only company."""
    return next(
        a
        for a in sorted(data.catalogue, key=lambda a: a.artist_id)
        if a.listeners == 1 and a.name.isascii() and a.name.replace(" ", "").isalpha() and len(a.name) > 6
        if data.catalogue.lookup(a.name) == a
    )


def ids(artists) -> list[int]:
    return [a.artist_id if isinstance(a, Artist) else a.artist.artist_id for a in artists]


async def what_sees(library: MemberLibrary, user_id: int, guild_id: int | None, new_id: int, niche: Artist) -> dict:
    """Where `new_id` shows up for this member in this server: by name, in suggestions, /similar, /recommend."""
    view = await library.catalogue_for(user_id, guild_id)
    try:
        resolved = library.resolve(NAME, view).artist_id == new_id
    except NoMatch as error:
        assert new_id not in ids(error.suggestions)
        resolved = False
    _, similar = await library.similar(user_id, niche.name, 100, guild_id=guild_id)
    return {
        "search": new_id in ids(view.search("glorptastic", 25)),
        "suggestions": new_id in ids(view.suggestions("Glorptastic Unheard Ensembl", 5)),
        "resolve": resolved,
        "similar": new_id in ids(a for a, _ in similar),
        "recommend": new_id in ids(await library.recommend(user_id, 100, guild_id=guild_id)),
    }


SEEN = dict.fromkeys(("search", "suggestions", "resolve", "similar", "recommend"), True)
UNSEEN = dict.fromkeys(SEEN, False)


def test_an_added_artist_is_seen_only_where_added_until_three_servers_like_it(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    niche = niche_artist(served.data)
    added: list[int] = []
    solve = Engine.recommend_for_likes

    def ranks_the_added_artist_first(self, liked, n=10, *args, **kwargs):
        # So few likers rarely lift an artist into anyone's top 100: have the model rank it first, so
        # that only visibility decides whether it is shown.
        found = [r for r in solve(self, liked, n, *args, **kwargs) if r.artist.artist_id not in added]
        return [Recommendation(self.catalogue.get(a), 1.0, ()) for a in added] + found[: n - len(added)]

    monkeypatch.setattr(Engine, "recommend_for_likes", ranks_the_added_artist_first)

    async def scenario() -> None:
        async with served.library() as (service, library):
            for member in ADDERS:
                new_id = (await library.add_artist_and_like(member, NAME, SERVER_A)).artist.artist_id
                await library.like_artist_id(member, niche.artist_id, guild_id=SERVER_A)
            added.append(new_id)
            for member in (VIEWER, NEIGHBOUR):
                await library.like_artist_id(member, niche.artist_id, guild_id=SERVER_B)
            assert await service.refit() is not None
            # The model itself would offer it to anyone who likes the niche artist...
            assert new_id in ids(service.engine.recommend_for_likes([niche.artist_id], 100))
            assert new_id in ids(a for a, _ in service.engine.similar(niche.artist_id, 100))

            # ...but only server A sees it, and in DMs only its likers.
            assert await what_sees(library, NEIGHBOUR, SERVER_A, new_id, niche) == SEEN
            assert await what_sees(library, VIEWER, SERVER_B, new_id, niche) == UNSEEN
            assert await what_sees(library, VIEWER, None, new_id, niche) == UNSEEN
            assert (await what_sees(library, ADDERS[0], None, new_id, niche))["resolve"]

            # Added independently in two more servers, it is taken to be real: everyone sees it.
            await library.add_artist_and_like(6001, NAME, SERVER_C)
            assert await what_sees(library, VIEWER, SERVER_B, new_id, niche) == UNSEEN
            assert (await library.add_artist_and_like(6002, NAME, SERVER_D)).artist.artist_id == new_id
            assert await what_sees(library, VIEWER, SERVER_B, new_id, niche) == SEEN
            assert await what_sees(library, VIEWER, None, new_id, niche) == SEEN

            # Server B's moderators remove it there: B no longer sees it, nor can add it; A still does.
            removed = await library.artists.remove(SERVER_B, NAME)
            assert removed is not None and removed.removal == "hidden" and removed.artist.artist_id == new_id
            assert await what_sees(library, VIEWER, SERVER_B, new_id, niche) == UNSEEN
            with pytest.raises(RemovedByModerators):
                await library.add_artist_and_like(VIEWER, NAME, SERVER_B)
            assert await what_sees(library, NEIGHBOUR, SERVER_A, new_id, niche) == SEEN

        # A restart reads who sees what from the store.
        async with served.library() as (service, library):
            assert await what_sees(library, VIEWER, SERVER_B, new_id, niche) == UNSEEN
            assert await what_sees(library, VIEWER, SERVER_C, new_id, niche) == SEEN

    served.run(scenario)


def test_removing_an_artist_only_one_server_refers_to_deletes_it(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (service, library):
            spam = (await library.add_artist_and_like(7001, "Totally Real Band", SERVER_A)).artist
            other = (await library.add_artist_and_like(7002, "Liked In A DM Too", SERVER_A)).artist
            await library.like_artist_id(7003, other.artist_id)
            assert [r.name for r in await library.artists.listed(SERVER_A)] == [
                "Liked In A DM Too",
                "Totally Real Band",
            ]
            assert await library.artists.listed(SERVER_B) == []
            assert await library.artists.remove(SERVER_B, "Totally Real Band") is None  # not this server's

            removed = await library.artists.remove(SERVER_A, "totally real band")
            assert removed is not None and removed.removal == "deleted"
            assert await service.store.artists.get_artist(spam.artist_id) is None
            assert await service.store.likes.likes_of(7001) == []
            assert library.catalogue.lookup("Totally Real Band") is None

            kept = await library.artists.remove(SERVER_A, "Liked In A DM Too")
            assert kept is not None and kept.removal == "hidden"  # a like outside server A refers to it
            assert await service.store.artists.get_artist(other.artist_id) is not None
            assert await library.artists.listed(SERVER_A) == []
            view = await library.catalogue_for(7003, None)
            assert library.resolve("Liked In A DM Too", view) == other  # still the liker's own

    served.run(scenario)


# -- names that are not artists' --------------------------------------------------------------------

SPAM = [
    "Spam Artist 00000 buy cheap pills",
    "Join discord.gg/abcdef for free music",
    "https://example.com/band",
    "Best Band www.example.org",
    "cheapmusic.ru",
    "discord.com/invite/xyz",
    "@everyone listen",
    "Band <@123456789012345678>",
    "Call +1 (555) 123-4567 now",
    "Viagra",
    "Free Nitro Here",
    "spam spam spam spam",
    "Aaaaaaaaaaaaaaaa",
]


@pytest.mark.parametrize("name", SPAM)
def test_spam_names_are_refused_before_anything_is_stored(real_data: RealData, name: str) -> None:
    # No store: anything past the check would fail with AttributeError.
    models = SimpleNamespace(catalogue=CatalogueView(real_data.catalogue, MemberArtists()))
    library = MemberLibrary(store=None, models=models)  # type: ignore[arg-type]
    with pytest.raises(UnacceptableName) as error:
        asyncio.run(library.add_artist_and_like(1, name, SERVER_A))
    assert "artist's name" in str(error.value)


@pytest.mark.parametrize(
    "name",
    [
        "Wet Wet Wet",
        "Duran Duran Duran",
        "Die! Die! Die!",
        "Casino Versus Japan",
        "Stravinsky, Igor (1882-1971)",
        "10,000 Maniacs",
        "The 1975",
        "AC/DC",
        "Sigur Rós",
        "Mr. Oizo",
        "t.A.T.u.",
        "Cheap Trick",
        "Zzyzx Quartet of Tests",
    ],
)
def test_real_names_pass_the_check(name: str) -> None:
    check_new_artist_name(name)


def test_a_spam_name_is_refused_with_the_real_store(served: Services) -> None:
    async def scenario() -> None:
        async with served.library() as (service, library):
            with pytest.raises(UnacceptableName):
                await library.add_artist_and_like(1, SPAM[0], SERVER_A)
            assert (await service.store.counts())["member_artists"] == 0
            # A Last.fm artist's name is never checked: it is that artist.
            assert (await library.add_artist_and_like(1, "Radiohead", SERVER_A)).artist.name == "Radiohead"

    served.run(scenario)
