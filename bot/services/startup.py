"""Opening the store the way every entry point needs it: migrated, and holding the catalogue."""

from __future__ import annotations

import asyncio

from db.engine import create_engine
from db.migrations import upgrade
from db.store import Store
from recommender.catalogue import ArtistCatalogue
from recommender.text import normalize_name


async def open_store(database_url: str, catalogue: ArtistCatalogue | None = None) -> Store:
    """Migrate to the newest schema (a no-op when current), open, and seed the Last.fm artists
    so that likes can refer to them (cheap after the first time)."""
    await asyncio.to_thread(upgrade, database_url)
    store = Store(create_engine(database_url))
    if catalogue is not None:
        await store.artists.seed_catalogue((a.artist_id, a.name, normalize_name(a.name), a.url) for a in catalogue)
    return store
