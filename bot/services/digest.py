"""Weekly server digests: on a server's chosen weekday and hour (UTC), a blend for the members active
that week and the week's rising artists, posted once per week.

Who was active: members who liked an artist in the server or voted in one of its listening sessions in
the last 7 days, public ones only; a private member is neither blended nor counted. The blend is the
group blend /blend makes (`SocialService.blend`), the rising artists those of /trending.

Each week's post is claimed in the store before it is sent (`Digests.claim`), so a restart, a second
pass or another process never posts it twice. The clock is injectable (`clock`), so tests need not wait
for a Monday.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import UserError
from bot.services.periodic import run_periodically
from bot.services.social import MAX_GROUP, SocialError, SocialService
from db.digests import DigestSchedule
from db.store import Store
from recommender.catalogue import Artist
from recommender.groups import GroupRecommendation

log = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: How often the bot looks for a digest that is due: a post is at most this late.
CHECK_EVERY_SECONDS = 300.0
ACTIVE_DAYS = 7
BLEND_SIZE = 8
RISING_SHOWN = 5

Clock = Callable[[], datetime]


class DigestError(UserError, ValueError):
    """A digest schedule that cannot be set; the message is for the moderator."""


@dataclass(frozen=True)
class Digest:
    guild_id: int
    channel_id: int
    #: When it was due (the scheduled hour), and the week it covers: ``[since, until)``.
    due_at: datetime
    since: datetime
    until: datetime
    #: Public members active that week, and how many of them the blend is for.
    active: int
    blended: int
    picks: list[GroupRecommendation]
    #: (artist, members that week, members the week before), the biggest rise first.
    rising: list[tuple[Artist, int, int]]

    @property
    def empty(self) -> bool:
        return not self.picks and not self.rising


def due_at(schedule: DigestSchedule, now: datetime) -> datetime | None:
    """When the schedule's latest digest fell due, if it has not been posted yet (else None).

    The latest scheduled hour at or before `now`; a digest is never due for an hour before the
    schedule was set, so setting it just after the hour waits for next week."""
    slot = now.astimezone(UTC).replace(hour=schedule.hour, minute=0, second=0, microsecond=0)
    slot -= timedelta(days=(slot.weekday() - schedule.weekday) % 7)
    if slot > now:
        slot -= timedelta(days=7)
    if slot < schedule.set_at:
        return None
    if schedule.last_posted_at is not None and schedule.last_posted_at >= slot:
        return None
    return slot


def next_post(schedule: DigestSchedule, now: datetime) -> datetime:
    """The next scheduled hour after `now`."""
    slot = now.astimezone(UTC).replace(hour=schedule.hour, minute=0, second=0, microsecond=0)
    slot += timedelta(days=(schedule.weekday - slot.weekday()) % 7)
    return slot if slot > now else slot + timedelta(days=7)


class DigestService:
    def __init__(self, store: Store, social: SocialService, *, clock: Clock | None = None) -> None:
        self.store = store
        self.social = social
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    async def set(self, guild_id: int, channel_id: int, weekday: int, hour: int) -> DigestSchedule:
        if not 0 <= weekday <= 6:
            raise DigestError(f"choose a day from {', '.join(WEEKDAYS)}.")
        if not 0 <= hour <= 23:
            raise DigestError("the hour must be from 0 to 23 (UTC).")
        return await self.store.digests.set(guild_id, channel_id, weekday, hour, now=self.clock())

    async def off(self, guild_id: int) -> bool:
        return await self.store.digests.off(guild_id)

    async def schedule(self, guild_id: int) -> DigestSchedule | None:
        return await self.store.digests.get(guild_id)

    async def compose(self, guild_id: int, channel_id: int, due: datetime, now: datetime) -> Digest:
        """The digest for the week before `now`."""
        since = now - timedelta(days=ACTIVE_DAYS)
        active = await self.store.digests.active_members(guild_id, since, now, public_only=True)
        picks: list[GroupRecommendation] = []
        blended = 0
        try:
            # No asker: every member's privacy is checked (the service leaves out private ones anyway).
            blend = await self.social.blend(
                0, active[:MAX_GROUP], BLEND_SIZE, "average", skip_unavailable=True, guild_id=guild_id
            )
            picks, blended = blend.picks, len(blend.members)
        except SocialError:
            pass  # fewer than two members with a taste: the digest has no blend this week
        trends = await self.social.trending(guild_id, ACTIVE_DAYS, n=RISING_SHOWN, now=now)
        return Digest(guild_id, channel_id, due, since, now, len(active), blended, picks, trends.rising)

    async def post_due(
        self,
        post: Callable[[Digest], Awaitable[object]],
        *,
        handles: Callable[[int], bool] = lambda guild_id: True,
        now: datetime | None = None,
    ) -> list[Digest]:
        """Post every digest that is due, for the servers this process `handles`; the digests posted.

        A digest is claimed before `post` is called: a post that fails is not retried (a lost week is
        better than a double post); an empty one (nobody active, nothing rising) is claimed, not posted."""
        now = now or self.clock()
        posted = []
        for schedule in await self.store.digests.scheduled():
            due = due_at(schedule, now)
            if due is None or not handles(schedule.guild_id):
                continue
            digest = await self.compose(schedule.guild_id, schedule.channel_id, due, now)
            if not await self.store.digests.claim(schedule.guild_id, due, now):
                continue  # another pass or process took it meanwhile
            if digest.empty:
                log.info("nothing to put in server %s's digest this week", schedule.guild_id)
                continue
            try:
                await post(digest)
            except Exception:  # noqa: BLE001 - one server's failure must not stop the others'
                log.warning("could not post server %s's digest", schedule.guild_id, exc_info=True)
                continue
            posted.append(digest)
        return posted

    async def run(
        self,
        stop: asyncio.Event,
        post: Callable[[Digest], Awaitable[object]],
        *,
        handles: Callable[[int], bool] = lambda guild_id: True,
        every: float = CHECK_EVERY_SECONDS,
    ) -> None:
        """Post due digests every `every` seconds until `stop` is set (a first pass at once)."""

        async def step() -> None:
            await self.post_due(post, handles=handles)

        await run_periodically(stop, every=every, step=step, logger=log, what="posting digests", immediately=True)
