"""The entities of the emulated Discord: users, roles, channels, members, voice states and the application.

Each serialises itself to the JSON shape of Discord's API v10 (``to_payload``).
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from discord_emulator.snowflake import iso_timestamp

JSON = dict[str, Any]

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types).
GUILD_TEXT = 0
GUILD_VOICE = 2
GUILD_CATEGORY = 4


@dataclass
class User:
    """A Discord user account (a person or a bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> JSON:
        """The user object. ``discriminator`` is "0" since Discord's 2023 username migration."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "bot": self.bot,
            "system": False,
            "primary_guild": None,
            "collectibles": None,
        }


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    tags: JSON | None = None

    def to_payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.tags is not None:
            payload["tags"] = self.tags
        return payload


@dataclass
class Channel:
    """A guild channel: text (type 0), voice (type 2) or category (type 4)."""

    id: int
    guild_id: int
    name: str
    type: int
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    bitrate: int = 64000
    user_limit: int = 0
    permission_overwrites: list[JSON] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_payload(self, *, include_guild_id: bool = True) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "permission_overwrites": copy.deepcopy(self.permission_overwrites),
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if include_guild_id:
            payload["guild_id"] = str(self.guild_id)
        if self.type in (GUILD_TEXT, GUILD_VOICE):
            payload["last_message_id"] = str(self.last_message_id) if self.last_message_id else None
            payload["rate_limit_per_user"] = self.rate_limit_per_user
        if self.type == GUILD_TEXT:
            payload["topic"] = self.topic
            payload["default_auto_archive_duration"] = 1440
        if self.type == GUILD_VOICE:
            payload["bitrate"] = self.bitrate
            payload["user_limit"] = self.user_limit
            payload["rtc_region"] = None
            payload["video_quality_mode"] = 1
        return payload


@dataclass
class Member:
    """A user's membership of one guild."""

    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_timestamp)
    nick: str | None = None
    deaf: bool = False
    mute: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def to_payload(self, *, include_user: bool = True, permissions: int | None = None) -> JSON:
        """The guild member object; interactions add ``permissions``, resolved data omits ``user``."""
        payload: JSON = {
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": self.deaf,
            "mute": self.mute,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if include_user:
            payload["user"] = self.user.to_payload()
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload


@dataclass
class VoiceState:
    """A member connected to a voice channel."""

    guild_id: int
    channel_id: int
    user_id: int
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    self_mute: bool = False
    self_deaf: bool = False

    def to_payload(self, member: Member | None = None, *, include_guild_id: bool = True) -> JSON:
        payload: JSON = {
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_stream": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if include_guild_id:
            payload["guild_id"] = str(self.guild_id)
        if member is not None:
            payload["member"] = member.to_payload()
        return payload


@dataclass
class Application:
    """The bot's application (what GET /oauth2/applications/@me describes)."""

    id: int
    name: str
    bot: User
    owner: User
    verify_key: str
    #: GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED by default.
    flags: int = (1 << 13) | (1 << 15) | (1 << 19)
    description: str = ""

    def to_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": self.description,
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": self.verify_key,
            "flags": self.flags,
            "owner": self.owner.to_payload(),
            "team": None,
            "bot": self.bot.to_payload(),
            "rpc_origins": [],
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "custom_install_url": None,
            "install_params": None,
            "integration_types_config": {"0": {}},
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": 0,
            "approximate_user_install_count": 0,
            "is_monetized": False,
            "guild_id": None,
            "primary_sku_id": None,
            "slug": None,
            "cover_image": None,
        }
