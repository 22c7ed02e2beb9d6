"""Encore's own data: members' likes, marks, Last.fm links and model snapshots, in SQL.

Knows nothing of Discord or of the recommender: ids are plain integers (Discord snowflakes for
members and servers, catalogue ids for artists). Typical use::

    from db import Store, create_engine, default_sqlite_url
    from db.migrations import upgrade

    url = default_sqlite_url(home)
    await asyncio.to_thread(upgrade, url)
    store = Store(create_engine(url))
"""

from db.engine import create_engine, default_sqlite_url, to_sync_url
from db.models import MEMBER_ARTIST_ID_BASE
from db.rows import ArtistRow, LastFmLinkRow, LikeRow, Privacy, SnapshotRow
from db.store import Store, UnknownArtistError

__all__ = [
    "MEMBER_ARTIST_ID_BASE",
    "ArtistRow",
    "LastFmLinkRow",
    "LikeRow",
    "Privacy",
    "SnapshotRow",
    "Store",
    "UnknownArtistError",
    "create_engine",
    "default_sqlite_url",
    "to_sync_url",
]
