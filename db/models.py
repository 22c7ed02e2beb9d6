"""The schema of Encore's own data: members, their servers, likes, and models fitted on them.

Every type is dialect-neutral so the same models run on SQLite (aiosqlite) and PostgreSQL
(asyncpg). Tables:

- ``users``: one row per Discord member, keyed by their snowflake (64-bit, ``BigInteger``);
  ``privacy`` is ``'public'`` (others in a server may see their likes and taste) or ``'private'``;
  ``listening_opt_in``: the member let a Spotify artist they play during a listening session count as
  their Into it (off unless they chose it; the activity itself is never stored).
- ``guilds``: Discord servers the bot has seen, keyed by snowflake.
- ``memberships``: which member was seen in which server; primary key ``(user_id, guild_id)``.
- ``artists``: the Last.fm catalogue (its own ids, below ``MEMBER_ARTIST_ID_BASE``) and artists
  members added that the catalogue lacks (ids from ``MEMBER_ARTIST_ID_BASE`` up).
  ``normalized_name`` is indexed, and unique among ``source = 'member'`` rows (the catalogue
  itself has a few spelling collisions, which it resolves by popularity).
- ``artist_additions``: who added a member artist (by hand or by a Last.fm import) and when, for the
  daily limit on additions; primary key ``artist_id``. Goes with the artist, and with the member.
- ``member_artist_ids``: one row (``id = 1``) holding the next member artist id, so an id is
  never given twice, even after the artist that had it was deleted.
- ``likes``: a member likes an artist; primary key ``(user_id, artist_id)``, so a like is
  recorded once however often it is repeated. ``weight`` holds play counts for Last.fm imports.
- ``not_interested``: "don't recommend me this"; primary key ``(user_id, artist_id)``.
- ``server_artists``: a server where a member artist was added or liked, so may be seen there;
  primary key ``(guild_id, artist_id)``. ``hidden_at`` is set when the server's moderators removed it.
- ``lastfm_links``: a member's linked Last.fm username.
- ``listening_sessions``: a listening session in a voice channel, with its panel message; at most one
  open (``ended_at IS NULL``) per voice channel, by a partial unique index.
- ``session_members``: who is in a session's group (``left_at`` set while they are out of the channel).
- ``session_picks``: the artists a session proposed, in order; ``for_members`` and ``because`` (JSON id
  lists) are the reason the panel shows, kept so the panel can be drawn again after a restart.
- ``session_votes``: a member's Into it / Not for me on a pick; primary key ``(pick_id, user_id)``.
- ``server_digests``: a server's weekly digest: the channel, the weekday (0 = Monday) and hour (UTC) to
  post at, when it was set and when it last posted (so each week's digest is posted once).
- ``model_snapshots``: fitted recommender snapshots and how they scored.
- ``store_revision``: one row (``id = 1``) whose ``revision`` grows with every change to member
  data, so a refit loop can ask "did anything change since revision N".

Rows about a member (likes, marks, memberships, Last.fm link, additions, session memberships and votes)
cascade when the member is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Catalogue ids are Last.fm's (HetRec's run to about 18,700); member-added artists start here
# so the two ranges can never collide, whatever catalogue is loaded later.
MEMBER_ARTIST_ID_BASE: Final = 10_000_000

PRIVACY_VALUES: Final = ("public", "private")
ARTIST_SOURCES: Final = ("lastfm", "member")
#: 'session': an "Into it" vote in a listening session.
LIKE_SOURCES: Final = ("discord", "lastfm", "session")
SNAPSHOT_STATUSES: Final = ("ready", "failed")
SESSION_STRATEGIES: Final = ("average", "least-misery")
#: Why a listening session ended: the End button or /session end, an empty voice channel, no vote for a while.
SESSION_END_REASONS: Final = ("ended", "empty", "idle")

# Deterministic constraint names: migrations and both dialects then agree on what to drop or alter.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Server-side default for rows written outside the store; the store always sends its own time.
_NOW = text("CURRENT_TIMESTAMP")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC.

    SQLite keeps datetimes as text without an offset, so values are converted to UTC on the way
    in (keeping text order equal to time order) and tagged UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("privacy", PRIVACY_VALUES), name="privacy"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    privacy: Mapped[str] = mapped_column(String(16), default="public", server_default="public")
    listening_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Guild(Base):
    __tablename__ = "guilds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    #: /encore settings popularity_penalty; NULL means Encore's default.
    popularity_penalty: Mapped[float | None] = mapped_column(Float)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (Index(None, "guild_id"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class Artist(Base):
    __tablename__ = "artists"
    __table_args__ = (
        CheckConstraint(_one_of("source", ARTIST_SOURCES), name="source"),
        Index(None, "normalized_name"),
        # Member-added artists are deduplicated by the database, not by a check-then-insert race.
        Index(
            "uq_artists_member_normalized_name",
            "normalized_name",
            unique=True,
            sqlite_where=text("source = 'member'"),
            postgresql_where=text("source = 'member'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(500))
    normalized_name: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(1000))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class ArtistAddition(Base):
    __tablename__ = "artist_additions"
    # The daily limit counts one member's recent additions.
    __table_args__ = (Index(None, "user_id", "added_at"),)

    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class MemberArtistIds(Base):
    __tablename__ = "member_artist_ids"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_id: Mapped[int] = mapped_column(Integer)


class Like(Base):
    __tablename__ = "likes"
    __table_args__ = (
        CheckConstraint(_one_of("source", LIKE_SOURCES), name="source"),
        Index(None, "artist_id"),
        # A server's likes in a time window (/trending, the weekly digest), without scanning every server's.
        Index(None, "guild_id", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    # Where the like was made; kept even if the bot later leaves that server.
    guild_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("guilds.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="discord", server_default="discord")
    weight: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class NotInterested(Base):
    __tablename__ = "not_interested"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class ServerArtist(Base):
    __tablename__ = "server_artists"
    __table_args__ = (Index(None, "artist_id"),)

    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    # Who first added or liked it there; unknown for rows from before the table (and forgotten members).
    added_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LastFmLink(Base):
    __tablename__ = "lastfm_links"
    __table_args__ = (Index(None, "username"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ModelSnapshot(Base):
    __tablename__ = "model_snapshots"
    __table_args__ = (
        CheckConstraint(_one_of("status", SNAPSHOT_STATUSES), name="status"),
        Index(None, "created_at"),
    )

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    users: Mapped[int] = mapped_column(Integer)
    artists: Mapped[int] = mapped_column(Integer)
    interactions: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="ready", server_default="ready")


class ListeningSession(Base):
    __tablename__ = "listening_sessions"
    __table_args__ = (
        CheckConstraint(_one_of("strategy", SESSION_STRATEGIES), name="strategy"),
        CheckConstraint(f"end_reason IS NULL OR {_one_of('end_reason', SESSION_END_REASONS)}", name="end_reason"),
        Index(None, "guild_id", "started_at"),
        # Two /session start racing in one channel: the database lets one through.
        Index(
            "uq_listening_sessions_open_voice_channel_id",
            "voice_channel_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id", ondelete="CASCADE"))
    voice_channel_id: Mapped[int] = mapped_column(BigInteger)
    text_channel_id: Mapped[int] = mapped_column(BigInteger)
    panel_message_id: Mapped[int | None] = mapped_column(BigInteger)
    strategy: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    last_vote_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))


class SessionMember(Base):
    __tablename__ = "session_members"
    __table_args__ = (Index(None, "user_id"),)

    session_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("listening_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SessionPick(Base):
    __tablename__ = "session_picks"
    __table_args__ = (Index(None, "session_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(Integer, ForeignKey("listening_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id", ondelete="CASCADE"))
    for_members: Mapped[list[int]] = mapped_column(JSON)
    because: Mapped[list[int]] = mapped_column(JSON)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class SessionVoteRow(Base):
    __tablename__ = "session_votes"
    __table_args__ = (Index(None, "user_id"),)

    pick_id: Mapped[int] = mapped_column(Integer, ForeignKey("session_picks.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    into_it: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)


class ServerDigest(Base):
    __tablename__ = "server_digests"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("hour >= 0 AND hour <= 23", name="hour"),
    )

    guild_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("guilds.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    weekday: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_NOW)
    last_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoreRevision(Base):
    __tablename__ = "store_revision"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Core handles for the store: bulk statements skip the ORM's per-object work.
users = _table(User)
guilds = _table(Guild)
memberships = _table(Membership)
artists = _table(Artist)
artist_additions = _table(ArtistAddition)
member_artist_ids = _table(MemberArtistIds)
likes = _table(Like)
not_interested = _table(NotInterested)
server_artists = _table(ServerArtist)
lastfm_links = _table(LastFmLink)
model_snapshots = _table(ModelSnapshot)
store_revision = _table(StoreRevision)
listening_sessions = _table(ListeningSession)
session_members = _table(SessionMember)
session_picks = _table(SessionPick)
session_votes = _table(SessionVoteRow)
server_digests = _table(ServerDigest)

metadata = Base.metadata
