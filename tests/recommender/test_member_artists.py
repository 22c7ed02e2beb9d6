"""recommender.member_artists: added artists beside the Last.fm catalogue, and who may see them."""

from __future__ import annotations

import pandas as pd
import pytest

from recommender.catalogue import ArtistCatalogue, lastfm_url
from recommender.member_artists import EVERYWHERE_AFTER_SERVERS, CatalogueView, MemberArtists

BASE_ID = 10_000_000


def base_catalogue() -> ArtistCatalogue:
    artists = pd.DataFrame(
        {
            "artist_id": [1, 2, 3, 4, 5, 6],
            "name": ["Nirvana", "Nine Inch Nails", "Nina Simone", "Sigur Rós", "Björk", "Ninja"],
        }
    )
    return ArtistCatalogue(artists, {1: 50, 2: 30, 3: 40, 4: 10, 5: 20}, {1: ["grunge"], 5: ["icelandic"]})


ADDED = [
    (BASE_ID, "Nirvanna Tribute", None),
    (BASE_ID + 1, "Ninetails", "https://example.org/ninetails"),
    (BASE_ID + 2, "Bjork Cover Band", None),
    (BASE_ID + 3, "Zzyzx Quartet", None),
    (BASE_ID + 4, "Nina", None),
]


def view_with(added: list[tuple[int, str, str | None]]) -> CatalogueView:
    members = MemberArtists()
    for artist_id, name, url in added:
        members.add(artist_id, name, url)
    return CatalogueView(base_catalogue(), members)


def test_adding_never_builds_or_copies_a_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    base = base_catalogue()
    view = CatalogueView(base, MemberArtists())
    builds: list[int] = []
    original = ArtistCatalogue.__init__

    def counting_init(self, *args, **kwargs):
        builds.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ArtistCatalogue, "__init__", counting_init)
    monkeypatch.setattr(ArtistCatalogue, "extended", lambda *a: pytest.fail("extended() rebuilds the catalogue"))
    for i in range(2_000):
        view.members.add(BASE_ID + i, f"Unheard Band {i}")
        view.members.show_in(BASE_ID + i, i % 7)
    assert builds == []
    assert view.base is base and len(base) == 6
    assert len(view) == 6 + 2_000
    assert view.lookup("unheard band 1999").artist_id == BASE_ID + 1999
    assert view.get(BASE_ID + 5).name == "Unheard Band 5"
    assert view.get(BASE_ID + 5).url == lastfm_url("Unheard Band 5")
    assert view.get(BASE_ID + 5).listeners == 0


@pytest.mark.parametrize("query", ["nir", "nin", "Nirvana", "bjork", "ninetails", "zzyzx", "xyz", "Nina", "qqqq", ""])
def test_search_and_suggestions_match_one_rebuilt_catalogue(query: str) -> None:
    view = view_with(ADDED)
    rebuilt = base_catalogue().extended(ADDED)
    for limit in (1, 3, 10):
        assert view.search(query, limit) == rebuilt.search(query, limit), (query, limit)
        assert view.closest(query, limit) == rebuilt.closest(query, limit), (query, limit)
        assert view.suggestions(query, limit) == rebuilt.suggestions(query, limit), (query, limit)
    assert view.lookup(query) == rebuilt.lookup(query)
    assert view.resolve(query) == rebuilt.resolve(query)


def test_a_last_fm_artist_wins_its_name_and_member_artists_have_no_tags() -> None:
    view = view_with([*ADDED, (BASE_ID + 9, "björk", None)])
    assert view.lookup("Bjork").artist_id == 5
    assert view.top_tags(5) == ["icelandic"]
    assert view.top_tags(BASE_ID) == []
    with pytest.raises(KeyError):
        view.top_tags(99)
    with pytest.raises(KeyError):
        view.get(99)
    assert view.search_tags("ic") == ["icelandic"]


def test_an_added_artist_is_seen_only_where_it_was_added_and_by_its_likers() -> None:
    view = view_with(ADDED)
    zzyzx = BASE_ID + 3
    view.members.show_in(zzyzx, 1)
    here, elsewhere, dm = view.visible_in(1), view.visible_in(2), view.visible_in(None)
    assert here.lookup("Zzyzx Quartet").artist_id == zzyzx
    assert [a.artist_id for a in here.search("zzy")] == [zzyzx]
    for unseen in (elsewhere, dm):
        assert unseen.lookup("Zzyzx Quartet") is None
        assert zzyzx not in [a.artist_id for a in unseen.search("zzy", 25)]
        assert zzyzx not in [a.artist_id for a in unseen.closest("zzyzx quartet", 25)]
        assert unseen.resolve("Zzyzx Quartet").artist is None
        assert not unseen.is_visible(zzyzx)
        assert zzyzx not in [a.artist_id for a in unseen]
    # The Last.fm artists are seen everywhere, ids are known everywhere.
    assert dm.is_visible(1) and dm.lookup("nirvana").artist_id == 1
    assert zzyzx in dm and dm.get(zzyzx).name == "Zzyzx Quartet"
    # A member who likes it sees it wherever they are.
    assert view.visible_in(None, own=[zzyzx]).lookup("zzyzx quartet").artist_id == zzyzx
    assert view.visible_in(2, own=[zzyzx]).is_visible(zzyzx)


def test_shown_in_enough_servers_it_is_seen_everywhere_but_where_it_was_removed() -> None:
    view = view_with(ADDED)
    ninetails = BASE_ID + 1
    for server in range(1, EVERYWHERE_AFTER_SERVERS):
        view.members.show_in(ninetails, server)
    assert not view.visible_in(None).is_visible(ninetails)
    view.members.show_in(ninetails, EVERYWHERE_AFTER_SERVERS)
    assert view.visible_in(None).lookup("ninetails").artist_id == ninetails
    assert view.visible_in(99).is_visible(ninetails)

    view.members.hide_in(ninetails, 99)
    assert not view.visible_in(99).is_visible(ninetails)
    assert view.visible_in(99).lookup("ninetails") is None
    view.members.show_in(ninetails, 99)  # a like there later does not undo the removal
    assert not view.visible_in(99).is_visible(ninetails)
    assert view.members.is_hidden_in(ninetails, 99) and not view.members.is_hidden_in(ninetails, None)

    view.members.hide_in(ninetails, 1)  # one server fewer: back to the servers that show it
    assert view.members.servers_of(ninetails) == frozenset(range(2, EVERYWHERE_AFTER_SERVERS + 1))
    assert not view.visible_in(None).is_visible(ninetails)


def test_a_name_the_last_fm_data_knows_is_seen_everywhere() -> None:
    members = MemberArtists()
    members.add(BASE_ID, "Known Elsewhere", everywhere=True)
    view = CatalogueView(base_catalogue(), members)
    assert view.visible_in(None).lookup("known elsewhere").artist_id == BASE_ID


def test_a_withdrawn_artist_is_found_by_no_name_but_still_by_id() -> None:
    view = view_with(ADDED)
    view.members.show_in(BASE_ID + 3, 1)
    view.members.withdraw(BASE_ID + 3)
    assert view.lookup("zzyzx quartet") is None
    assert view.visible_in(1).lookup("zzyzx quartet") is None
    assert view.visible_in(None, own=[BASE_ID + 3]).lookup("zzyzx quartet") is None
    assert BASE_ID + 3 not in [a.artist_id for a in view.search("zzyzx", 25)]
    assert view.get(BASE_ID + 3).name == "Zzyzx Quartet"  # a served model may still name it


def test_adding_again_keeps_the_first_name() -> None:
    members = MemberArtists()
    first = members.add(BASE_ID, "Original Name")
    assert members.add(BASE_ID, "Other Name") == first
    assert len(members) == 1 and members.lookup("othername") is None


def test_an_id_given_again_after_a_withdrawal_names_the_new_artist() -> None:
    # The store gives a deleted artist's id to the next one added when it was the highest.
    members = MemberArtists()
    members.add(BASE_ID, "Deleted Band")
    members.show_in(BASE_ID, 1)
    members.withdraw(BASE_ID)
    members.add(BASE_ID, "Next Band")
    assert members.get(BASE_ID).name == "Next Band"
    assert members.lookup("nextband").artist_id == BASE_ID and members.lookup("deletedband") is None
    assert members.servers_of(BASE_ID) == frozenset()
