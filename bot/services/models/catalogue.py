"""The serving catalogue, extended with the artists members add (by hand, by import, or in a snapshot)."""

from __future__ import annotations

import asyncio

from recommender.catalogue import ArtistCatalogue


class ServingCatalogue:
    def __init__(self, catalogue: ArtistCatalogue) -> None:
        self.catalogue = catalogue
        self._lock = asyncio.Lock()

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None:
        """Make the catalogue name these (artist_id, name, url) artists.

        The rebuild runs in a worker thread; the lock makes each rebuild start from the catalogue the
        previous one produced, so two additions at once cannot undo each other.
        """
        async with self._lock:
            missing = [a for a in artists if int(a[0]) not in self.catalogue]
            if missing:
                self.catalogue = await asyncio.to_thread(self.catalogue.extended, missing)
