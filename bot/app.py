"""The composition root: everything a running Encore needs, built once in one place and closed once.

Settings → the Last.fm data and its catalogue → the store (migrated, holding the catalogue) → the model
service → the member library, the social features, listening sessions and the Last.fm importer. The bot,
the CLI commands, `encore demo`, the benchmarks and the tests all get their objects from `build_app`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.lastfm.artists import ArtistLookup
from bot.lastfm.client import DEFAULT_BASE_URL, LastFmClient
from bot.services.digest import DigestService
from bot.services.lastfm_import import LastFmImporter
from bot.services.library import MemberLibrary
from bot.services.models import ModelService
from bot.services.new_artists import NewArtists
from bot.services.onboarding import OnboardingService
from bot.services.sessions import SessionService
from bot.services.social import SocialService
from bot.services.startup import open_store
from bot.settings import Settings
from db.store import Store
from recommender.datasets import resolve_data_dir
from recommender.training import LastFmData, Trainer

__all__ = ["App", "LastFmData", "build_app", "load_lastfm_data"]


@dataclass
class App:
    settings: Settings
    data: LastFmData
    store: Store
    models: ModelService
    library: MemberLibrary
    social: SocialService
    sessions: SessionService
    #: None when no LASTFM_API_KEY is set.
    lastfm: LastFmImporter | None
    #: /start's steps for a new member.
    onboarding: OnboardingService
    #: Weekly server digests (/encore digest).
    digests: DigestService

    async def close(self) -> None:
        if self.lastfm is not None:
            await self.lastfm.client.close()
        await self.library.new_artists.close()
        await self.store.close()


async def load_lastfm_data(settings: Settings) -> LastFmData:
    """The Last.fm data set of `settings` (downloaded into the cache if needed), off the event loop."""
    data_dir = await asyncio.to_thread(resolve_data_dir, settings.lastfm_dir)
    return await asyncio.to_thread(LastFmData.load, data_dir)


async def build_app(
    settings: Settings,
    *,
    data: LastFmData | None = None,
    trainer: Trainer | None = None,
    follow_trainer: bool = False,
    start: bool = True,
) -> App:
    """Load the data (unless given), open and migrate the store, and build every service over them.

    `trainer`: what refits fit with (default: implicit with Encore's configuration).
    `start`: serve the newest good snapshot now, fitting one only if there is none; without it nothing
    is served until `app.models.start()` or `app.models.refit()` (what `encore fit` does).
    `follow_trainer`: start from the newest snapshot `encore train` recorded in the store.
    """
    data = data if data is not None else await load_lastfm_data(settings)
    store = await open_store(settings.database_url, data.catalogue)
    try:
        models = ModelService(
            store=store,
            data=data,
            snapshot_dir=settings.snapshot_dir,
            refit_minutes=settings.refit_minutes,
            trainer=trainer,
        )
        if start:
            await models.start(published_first=follow_trainer)
    except BaseException:
        await store.close()
        raise
    lastfm = None
    new_artists = NewArtists(None)
    if settings.lastfm_api_key:
        # The client wants the base with its trailing slash; settings strip it.
        base = f"{settings.lastfm_api_base}/" if settings.lastfm_api_base else DEFAULT_BASE_URL
        lastfm = LastFmImporter(
            store,
            models,
            LastFmClient(settings.lastfm_api_key, base_url=base),
            max_added_artists_per_day=settings.max_added_artists_per_day,
        )
        # Artists newer than the 2011 catalogue are looked up on Last.fm as members add them.
        new_artists = NewArtists(ArtistLookup(settings.lastfm_api_key, base_url=base))
    library = MemberLibrary(
        store,
        models,
        max_likes=settings.max_likes_per_member,
        max_added_artists_per_day=settings.max_added_artists_per_day,
        new_artists=new_artists,
    )
    # One mirror of who sees which added artist, shared with the library.
    social = SocialService(store, models, artists=library.artists)
    return App(
        settings=settings,
        data=data,
        store=store,
        models=models,
        library=library,
        social=social,
        sessions=SessionService(store, library),
        lastfm=lastfm,
        onboarding=OnboardingService(library),
        digests=DigestService(store, social),
    )
