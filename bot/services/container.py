"""Everything the running bot needs, built once at start and closed once at the end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.lastfm.client import DEFAULT_BASE_URL, LastFmClient
from bot.services.lastfm_import import LastFmImporter
from bot.services.library import MemberLibrary
from bot.services.refit import RefitService
from bot.services.startup import open_store
from bot.settings import Settings
from db.store import Store
from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec, resolve_data_dir
from recommender.training import lastfm_interactions


@dataclass
class Services:
    settings: Settings
    store: Store
    models: RefitService
    library: MemberLibrary
    #: None when no LASTFM_API_KEY is set.
    lastfm: LastFmImporter | None = None

    async def close(self) -> None:
        if self.lastfm is not None:
            await self.lastfm.client.close()
        await self.store.close()


async def build_services(settings: Settings, follow_trainer: bool = False) -> Services:
    """Load the data, open (and migrate) the store, and serve the newest good snapshot.

    `follow_trainer`: start from the newest snapshot `encore train` recorded in the store."""
    data_dir = await asyncio.to_thread(resolve_data_dir, settings.lastfm_dir)
    dataset = await asyncio.to_thread(load_hetrec, data_dir)
    catalogue = await asyncio.to_thread(ArtistCatalogue.from_dataset, dataset)
    store = await open_store(settings.database_url, catalogue)
    try:
        models = RefitService(
            store,
            lastfm_interactions(dataset),
            dataset.fingerprint,
            catalogue,
            settings.snapshot_dir,
            settings.refit_minutes,
        )
        await models.start(published_first=follow_trainer)
    except BaseException:
        await store.close()
        raise
    lastfm = None
    if settings.lastfm_api_key:
        # The client wants the base with its trailing slash; settings strip it.
        base = f"{settings.lastfm_api_base}/" if settings.lastfm_api_base else DEFAULT_BASE_URL
        lastfm = LastFmImporter(store, models, LastFmClient(settings.lastfm_api_key, base_url=base))
    return Services(settings, store, models, MemberLibrary(store, models), lastfm)
