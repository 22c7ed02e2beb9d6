"""What the store hands back: small immutable rows, and the vocabularies of its string columns."""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Privacy = Literal["public", "private"]
ArtistSource = Literal["lastfm", "member"]
LikeSource = Literal["discord", "lastfm", "session"]
SnapshotStatus = Literal["ready", "failed"]


@dataclass(frozen=True, slots=True)
class ArtistRow:
    """An artist from the Last.fm catalogue (``source='lastfm'``) or added by a member."""

    id: int
    name: str
    normalized_name: str
    url: str | None
    source: ArtistSource
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ServerArtistRow:
    """A member-added artist seen in a server because it was added or liked there."""

    artist_id: int
    name: str
    #: Who first added or liked it there; None when unknown.
    added_by: int | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class LikeRow:
    """One of a member's likes, with the artist's name; ``weight`` is plays for Last.fm imports."""

    artist_id: int
    name: str
    source: LikeSource
    weight: float | None
    created_at: datetime
    guild_id: int | None = None


@dataclass(frozen=True, slots=True)
class Taste:
    """What a member told Encore: liked artists (with a play count for imported ones) and marks."""

    liked: tuple[int, ...]
    #: Per liked artist: its play count when imported from Last.fm, None for a like.
    plays: tuple[float | None, ...]
    not_interested: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LikeColumns:
    """Every like as packed columns (`Likes.all_like_columns`): the same index is the same like. A
    weight is NaN for a like without imported plays."""

    user_ids: array[int]
    artist_ids: array[int]
    weights: array[float]

    def __len__(self) -> int:
        return len(self.user_ids)


@dataclass(frozen=True, slots=True)
class LastFmLinkRow:
    """A member's linked Last.fm account; ``refreshed_at`` is the last import of their listening."""

    user_id: int
    username: str
    linked_at: datetime
    refreshed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A fitted model snapshot on disk and how it scored."""

    version: str
    path: str
    created_at: datetime
    users: int
    artists: int
    interactions: int
    metrics: dict[str, Any]
    status: SnapshotStatus
