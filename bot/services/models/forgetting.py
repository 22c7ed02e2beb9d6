"""Forgetting a member in the model at once: the served engine and every snapshot on disk lose their row.

The store forgets first (`forget_member`, `unlink_member`); then the served snapshot is saved again
without the member's row and the artists only they had (`recommender.forgetting`), that new snapshot
is served and published, and every other snapshot on disk that still holds them is deleted. No refit
is needed: the other members' answers come from the same factors as before, minus the member's.

It runs under the refitter's lock, so a refit that read the store before the member was forgotten
finishes first and its snapshot is cleaned too, and no refit starts meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.services.models.publishing import publish
from bot.services.models.serving import Serving
from db.models import MEMBER_ARTIST_ID_BASE
from db.store import Store
from recommender.forgetting import holds, mentions, save_without
from recommender.merge import member_key
from recommender.snapshot import snapshot_paths

log = logging.getLogger(__name__)


class ForgetsMembers(Protocol):
    """What forgetting needs of the model service (`ModelService.forget`)."""

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> Any: ...


async def forget_member(store: Store, models: ForgetsMembers, user_id: int) -> dict[str, int]:
    """/forget-me: every row about the member and the artists only they had go from the store, then
    from the served model and the snapshots on disk; returns the rows deleted per table."""
    taste = await store.likes.taste_of(user_id)
    theirs = {a for a in (*taste.liked, *taste.not_interested) if a >= MEMBER_ARTIST_ID_BASE}
    removed = await store.members.forget_user(user_id)
    await models.forget(member_key(user_id), await _deleted(store, theirs))
    return removed


async def unlink_member(store: Store, models: ForgetsMembers, user_id: int) -> bool:
    """/lastfm unlink: the link and the imported likes go from the store, and the member's row (which
    holds the imported plays) from the model and the snapshots; their own likes return at the next
    refit, and count at once anyway, as /recommend solves from the store. True if there was a link."""
    imported = {
        row.artist_id
        for row in await store.likes.likes_of(user_id)
        if row.source == "lastfm" and row.artist_id >= MEMBER_ARTIST_ID_BASE
    }
    linked = await store.lastfm.unlink_lastfm(user_id, forget_imported_likes=True)
    if linked or imported:
        await models.forget(member_key(user_id), await _deleted(store, imported))
    return linked


async def _deleted(store: Store, artist_ids: set[int]) -> list[int]:
    """Which of these member artists the store no longer has (the forgetting deleted them)."""
    if not artist_ids:
        return []
    remaining = {row.id for row in await store.artists.member_artists()}
    return sorted(artist_ids - remaining)


class Forgetter:
    def __init__(self, *, store: Store, serving: Serving, snapshot_dir: Path, lock: asyncio.Lock) -> None:
        self.store = store
        self.serving = serving
        self.snapshot_dir = snapshot_dir
        self.lock = lock

    async def forget(self, user_key: str, artist_ids: Sequence[int] = ()) -> list[Path]:
        """Serve a model without this user's row and these (deleted) artists, and delete every other
        snapshot on disk that holds any of them; returns the snapshots deleted.

        Call it after the store forgot them: a refit from then on cannot bring them back.
        """
        keys, artists = [user_key], list(artist_ids)
        async with self.lock:
            state = self.serving.state
            old = state.snapshot if state is not None else None
            served = old
            if old is not None and holds(old, keys, artists):
                served = await asyncio.to_thread(save_without, old, self.snapshot_dir, keys, artists)
            for artist_id in artists:
                # The model no longer serves them; a name must not find them either (they are deleted).
                self.serving.catalogue.members.withdraw(artist_id)
            if served is not old:
                assert served is not None and old is not None
                await self.serving.swap(served)
                await publish(self.store, served)
                log.info(
                    "serving snapshot %s, rewritten from %s without a forgotten member", served.version, old.version
                )
            keep = served.path if served is not None else None
            return await asyncio.to_thread(self._delete_mentions, keep, old.path if old else None, keys, artists)

    def _delete_mentions(
        self, keep: Path | None, previous: Path | None, keys: list[str], artists: list[int]
    ) -> list[Path]:
        """Every snapshot here (and the previously served one, wherever it was) that holds them."""
        candidates = dict.fromkeys([*snapshot_paths(self.snapshot_dir), *([previous] if previous else [])])
        removed = []
        for path in candidates:
            if path == keep or not path.is_dir() or not mentions(path, keys, artists):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        return removed
