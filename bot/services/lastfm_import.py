"""A member's Last.fm listening as likes: `/lastfm link` imports their top artists, a loop keeps them fresh.

Each top artist becomes a like with ``source='lastfm'`` and its play count as weight, so the model
sees plays (as it does for the Last.fm data set) rather than a bare like. Names the catalogue knows
exactly (after `normalize_name`) take the catalogue's artist; the rest become member artists, as a
confirmed "/like <new name>" does, and count towards the member's daily limit on added artists as those
do (otherwise linking one Last.fm account after another would get round it): past it, the chart's other
new names wait for a later refresh.

Nothing is written until Last.fm has answered in full, and the new import then replaces the old one
in one transaction (`Store.replace_lastfm_import`): a failed fetch leaves the earlier import as it was.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, TopArtist
from bot.services.library import DEFAULT_MAX_ADDED_ARTISTS_PER_DAY, MAX_NAME_LENGTH
from bot.services.models.catalogue import ServingCatalogue
from bot.services.models.forgetting import unlink_member
from bot.services.periodic import run_periodically
from bot.services.redaction import member_ref
from bot.services.server_artists import ServerArtists, UnacceptableName, check_new_artist_name
from db.store import AddedArtistLimitReached, Store, UnknownMemberError
from recommender.catalogue import ArtistCatalogue, lastfm_url
from recommender.text import clean_user_text, normalize_name

log = logging.getLogger(__name__)

#: HetRec 2011 holds each user's 50 most played artists: importing as many makes a member's row
#: look like the rows the model was tuned on, rather than a long tail of artists played once.
IMPORT_PAGE_SIZE: Final = 50
IMPORT_PAGES: Final = 1
#: How stale an import may get before the refresh loop fetches it again, and how often it looks.
REFRESH_AFTER: Final = timedelta(days=1)
REFRESH_CHECK_SECONDS: Final = 3600.0
#: Between two members' fetches in a refresh: Last.fm allows about 5 requests a second per IP.
REFRESH_PAUSE_SECONDS: Final = 0.5
#: Last.fm's placeholder for scrobbles without an artist tag; not an artist anyone listens to.
_PLACEHOLDER_NAMES: Final = frozenset({"[unknown]"})
_TOP_SHOWN: Final = 5


class ArtistDirectory(Protocol):
    """The serving catalogue, and a way to make it name artists members added. ModelService is one."""

    @property
    def catalogue(self) -> ArtistCatalogue: ...

    async def include_artists(self, artists: list[tuple[int, str, str | None]]) -> None: ...

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> Any:
        """Drop a user's row and these deleted artists from the served model (`ModelService.forget`)."""


class FixedCatalogue(ServingCatalogue):
    """An `ArtistDirectory` over a plain catalogue, for callers without a ModelService."""

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> None:
        """No model to forget in; names just stop finding the deleted artists."""
        for artist_id in artist_ids:
            self.members.withdraw(artist_id)


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored, for the member's reply."""

    username: str
    #: Distinct artists taken from the chart (after merging names that are one artist to Encore).
    artists: int
    #: Of those, how many are now Last.fm likes; the rest the member had already liked in Discord.
    imported: int
    #: Of `artists`, how many the catalogue knew and how many were added as new artists.
    known: int
    new: int
    #: Chart entries left out: blank, placeholder, over-long or spam names (links, adverts), or no plays.
    skipped: int
    #: New artists left out as the member reached the daily limit on added artists (a refresh retries them).
    over_daily_limit: int
    plays: int
    #: The most played few, most played first.
    top: tuple[str, ...]


@dataclass
class RefreshReport:
    """What one pass of `refresh_due` did."""

    due: int = 0
    refreshed: int = 0
    #: Members who unlinked (or were forgotten) while their chart was being fetched: nothing written.
    gone: int = 0
    failed: dict[int, LastFmErrorKind] = field(default_factory=dict)
    #: Set when a failure that every request would meet (rate limit, bad key, outage) ended the pass.
    stopped_by: LastFmErrorKind | None = None


@dataclass(frozen=True)
class _Resolved:
    artist_id: int
    name: str
    plays: float


@dataclass
class _Chart:
    """A chart as artist ids (`_resolve`), and what was left out of it."""

    resolved: list[_Resolved]
    known: int
    new_artists: list[tuple[int, str, str | None]]
    skipped: int
    over_daily_limit: int


class LastFmImporter:
    """Links members to Last.fm accounts and keeps their imported top artists fresh.

    Calls for one member run one at a time (a second `link` waits for the first), so the last
    command a member gave is the one that sticks.
    """

    def __init__(
        self,
        store: Store,
        artists: ArtistDirectory | ArtistCatalogue,
        client: LastFmClient,
        *,
        page_size: int = IMPORT_PAGE_SIZE,
        pages: int = IMPORT_PAGES,
        max_added_artists_per_day: int = DEFAULT_MAX_ADDED_ARTISTS_PER_DAY,
    ) -> None:
        self.store = store
        self.artists: ArtistDirectory = FixedCatalogue(artists) if isinstance(artists, ArtistCatalogue) else artists
        self._seen = ServerArtists(store, self.artists)
        self.client = client
        self.page_size = page_size
        self.pages = pages
        self.max_added_artists_per_day = max_added_artists_per_day
        # Weak: a member's lock lives only while someone holds or waits for it.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def link(self, user_id: int, username: str, guild_id: int | None = None) -> ImportSummary:
        """Fetch the member's top artists and make them their Last.fm likes, replacing any earlier import.

        Raises `LastFmError` (a UserError: the bot tells the member); then nothing has changed.
        """
        username = username.strip()
        async with self._member(user_id):
            chart = await self.client.top_artists(username, self.page_size, self.pages)
            summary = await self._store(user_id, username, chart, guild_id, only_if_linked=False)
        assert summary is not None
        # Neither the Discord id nor the username: together they would outlive /forget-me in the log.
        log.info("%s linked Last.fm: %d artists (%d new)", member_ref(user_id), summary.artists, summary.new)
        return summary

    async def unlink(self, user_id: int) -> bool:
        """Remove the member's link and every like imported from it, from the store and from the model
        (bot/services/models/forgetting.py); True if there was a link."""
        async with self._member(user_id):
            return await unlink_member(self.store, self.artists, user_id)

    async def refresh_due(
        self,
        older_than: timedelta = REFRESH_AFTER,
        now: datetime | None = None,
        pause: float = REFRESH_PAUSE_SECONDS,
        limit: int | None = None,
    ) -> RefreshReport:
        """Import again every link not refreshed for `older_than`, stalest first.

        A member's failure is logged and their earlier import kept; a failure every request would
        meet ends the pass, leaving the rest due for the next one.
        """
        cutoff = (now or datetime.now(UTC)) - older_than
        due = await self.store.lastfm.lastfm_links_due(cutoff, limit)
        report = RefreshReport(due=len(due))
        for index, link in enumerate(due):
            if index and pause > 0:
                await asyncio.sleep(pause)
            try:
                async with self._member(link.user_id):
                    chart = await self.client.top_artists(link.username, self.page_size, self.pages)
                    summary = await self._store(link.user_id, link.username, chart, None, only_if_linked=True)
            except LastFmError as error:
                report.failed[link.user_id] = error.kind
                log.warning(
                    "Last.fm refresh of %s failed: %s (%s)", member_ref(link.user_id), error.kind.value, error.detail
                )
                if error.service_wide:
                    report.stopped_by = error.kind
                    break
                continue
            if summary is None:
                report.gone += 1
            else:
                report.refreshed += 1
        return report

    async def run(
        self,
        stop: asyncio.Event,
        every: float = REFRESH_CHECK_SECONDS,
        older_than: timedelta = REFRESH_AFTER,
    ) -> None:
        """Refresh due links now and then every `every` seconds until `stop` is set."""

        async def refresh_once() -> None:
            report = await self.refresh_due(older_than)
            if report.due:
                log.info(
                    "Last.fm refresh: %d due, %d refreshed, %d failed%s",
                    report.due,
                    report.refreshed,
                    len(report.failed),
                    f", stopped by {report.stopped_by.value}" if report.stopped_by else "",
                )

        await run_periodically(
            stop, every=every, step=refresh_once, logger=log, what="Last.fm refresh pass", immediately=True
        )

    # -- internals -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _member(self, user_id: int) -> AsyncIterator[None]:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        async with lock:
            yield

    async def _store(
        self,
        user_id: int,
        username: str,
        chart: Sequence[TopArtist],
        guild_id: int | None,
        only_if_linked: bool,
    ) -> ImportSummary | None:
        # A refresh adds nothing for a member forgotten meanwhile, not even the chart's new artists.
        found = await self._resolve(user_id, chart, record_member=not only_if_linked)
        if found is None:
            return None
        resolved = found.resolved
        imported = await self.store.lastfm.replace_lastfm_import(
            user_id,
            username,
            [(r.artist_id, r.plays) for r in resolved],
            guild_id,
            only_if_linked=only_if_linked,
        )
        if imported is None:
            return None
        if found.new_artists:
            # After the write, so a failed import does not grow the serving catalogue.
            await self.artists.include_artists(found.new_artists)
        if guild_id is not None:
            # Liked in this server, as a /like there would have: its members now see the added artists.
            await self._seen.show_imported(user_id, guild_id, [r.artist_id for r in resolved])
        return ImportSummary(
            username=username,
            artists=len(resolved),
            imported=imported,
            known=found.known,
            new=len(resolved) - found.known,
            skipped=found.skipped,
            over_daily_limit=found.over_daily_limit,
            plays=int(sum(r.plays for r in resolved)),
            top=tuple(r.name for r in resolved[:_TOP_SHOWN]),
        )

    async def _resolve(self, user_id: int, chart: Sequence[TopArtist], *, record_member: bool) -> _Chart | None:
        """Chart entries as artist ids, most played first; names that are one artist are summed. New
        names are added as the member's, up to their daily limit; None if the store does not have the
        member and `record_member` is false."""
        await self._seen.sync()
        catalogue = self.artists.catalogue
        by_id: dict[int, _Resolved] = {}
        new_artists: dict[int, tuple[int, str, str | None]] = {}
        skipped = over_daily_limit = 0
        for entry in chart:
            name = clean_user_text(entry.name)
            key = normalize_name(name)
            if not key or len(name) > MAX_NAME_LENGTH or entry.playcount <= 0 or name.casefold() in _PLACEHOLDER_NAMES:
                skipped += 1
                continue
            found = catalogue.lookup(name)
            if found is not None:
                # The catalogue's spelling ("Björk" for "bjork"), as /likes will show it.
                artist_id, name = found.artist_id, found.name
            elif not _acceptable(name):
                skipped += 1
                continue
            else:
                url = entry.url or lastfm_url(name)
                try:
                    artist_id = await self.store.artists.add_member_artist(
                        name,
                        key,
                        url,
                        added_by=user_id,
                        daily_limit=self.max_added_artists_per_day,
                        record_member=record_member,
                    )
                except UnknownMemberError:
                    return None
                except AddedArtistLimitReached:
                    # Still asked for the rest: a name another process added meanwhile costs nothing.
                    over_daily_limit += 1
                    continue
                if self._seen.needs_naming(artist_id):
                    new_artists[artist_id] = (artist_id, name, url)
            earlier = by_id.get(artist_id)
            plays = float(entry.playcount) + (earlier.plays if earlier else 0.0)
            by_id[artist_id] = _Resolved(artist_id, earlier.name if earlier else name, plays)
        resolved = sorted(by_id.values(), key=lambda r: -r.plays)
        known = sum(1 for r in resolved if r.artist_id in catalogue)
        return _Chart(resolved, known, list(new_artists.values()), skipped, over_daily_limit)


def _acceptable(name: str) -> bool:
    """Chart names pass the check a typed new artist does: Last.fm charts hold links and adverts too."""
    try:
        check_new_artist_name(name)
    except UnacceptableName:
        return False
    return True
