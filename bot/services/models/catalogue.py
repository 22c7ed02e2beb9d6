"""The serving catalogue: the Last.fm data's, with the artists members add (by hand, by import, or in a snapshot)."""

from __future__ import annotations

from recommender.catalogue import ArtistCatalogue
from recommender.member_artists import CatalogueView, MemberArtists


class ServingCatalogue:
    """One `CatalogueView` for the life of the process: the Last.fm base never changes, member
    artists join it one at a time (recommender.member_artists), so no index is ever rebuilt."""

    def __init__(self, catalogue: ArtistCatalogue) -> None:
        self.base = catalogue
        self.members = MemberArtists()
        self.catalogue = CatalogueView(catalogue, self.members)

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None:
        """Make the catalogue name these (artist_id, name, url) artists: O(1) each, on the event loop.

        An artist whose name the Last.fm data has is seen everywhere, as that artist would be.
        """
        for artist_id, name, url in artists:
            if int(artist_id) not in self.base:
                self.members.add(int(artist_id), name, url, everywhere=self.base.lookup(name) is not None)
