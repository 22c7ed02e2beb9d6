"""The emulated Discord world: application, bot user, guilds, members, channels, messages, commands.

Entities serialise themselves to the JSON shapes of Discord's API v10 (``to_payload``). Mutations made
after a client has connected are announced through ``EmulatorState.listener`` so the gateway can dispatch
the matching events (GUILD_MEMBER_ADD, VOICE_STATE_UPDATE, ...), as Discord would.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator import permissions as perms
from bot.emulator.snowflake import SnowflakeGenerator, iso_timestamp, snowflake_time

JSON = dict[str, Any]

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types).
GUILD_TEXT = 0
GUILD_VOICE = 2
GUILD_CATEGORY = 4

# Message flags the emulator interprets.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15
#: Flags a bot may set when sending or editing; Discord silently drops the others.
SETTABLE_MESSAGE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2

_MENTION = re.compile(r"<@!?(\d{15,21})>")


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
class Guild:
    """A guild (server) with its roles, channels, members and voice states."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == GUILD_TEXT]

    @property
    def voice_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == GUILD_VOICE]

    def member_named(self, username: str) -> Member:
        """Find a member by username (handy in tests and the demo)."""
        for member in self.members.values():
            if member.user.username == username:
                return member
        raise KeyError(f"no member named {username!r} in guild {self.name!r}")

    def channel_named(self, name: str) -> Channel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def base_permissions(self, member: Member) -> int:
        return perms.base_permissions(
            is_owner=member.id == self.owner_id,
            everyone=self.everyone.permissions,
            role_permissions=(self.roles[r].permissions for r in member.roles if r in self.roles),
        )

    def permissions_in(self, member: Member, channel: Channel | None) -> int:
        base = self.base_permissions(member)
        if channel is None:
            return base
        return perms.channel_permissions(
            base,
            guild_id=self.id,
            member_id=member.id,
            member_role_ids=member.roles,
            overwrites=channel.permission_overwrites,
        )

    def to_payload(self, *, voice_states: bool = True) -> JSON:
        """The full GUILD_CREATE payload; ``member_count == len(members)`` so discord.py sees it chunked."""
        created = snowflake_time(self.id)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "mfa_level": 0,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "system_channel_id": str(self.text_channels[0].id) if self.text_channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "incidents_data": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "inventory_settings": None,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "soundboard_sounds": [],
            # GUILD_CREATE-only fields.
            "joined_at": iso_timestamp(created),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "members": [m.to_payload() for m in self.members.values()],
            "channels": [c.to_payload(include_guild_id=False) for c in self.channels.values()],
            "threads": [],
            "presences": [],
            "voice_states": (
                [v.to_payload(include_guild_id=False) for v in self.voice_states.values()] if voice_states else []
            ),
            "stage_instances": [],
            "guild_scheduled_events": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
        }

    def to_rest_payload(self) -> JSON:
        """GET /guilds/{id}: the guild without the GUILD_CREATE-only lists."""
        payload = self.to_payload()
        for key in (
            "joined_at",
            "large",
            "unavailable",
            "lazy",
            "member_count",
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "stage_instances",
            "guild_scheduled_events",
            "embedded_activities",
            "activity_instances",
            "application_command_counts",
        ):
            payload.pop(key, None)
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


@dataclass
class StoredMessage:
    """A message plus what the payload does not carry (attachment bytes, deletion)."""

    payload: JSON
    files: dict[int, bytes] = field(default_factory=dict)
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])


class EmulatorState:
    """Everything the emulated Discord knows. Not thread-safe: use it from the emulator's event loop."""

    def __init__(
        self,
        *,
        bot_username: str = "Encore",
        application_name: str = "Encore",
        snowflakes: SnowflakeGenerator | None = None,
    ) -> None:
        self.snowflakes = snowflakes or SnowflakeGenerator()
        self.users: dict[int, User] = {}
        owner = self._new_user("app-owner")
        bot_user = self._new_user(bot_username, bot=True)
        # Discord gives a bot user the same id as its application (true of every app made since 2016).
        self.application = Application(
            id=bot_user.id,
            name=application_name,
            bot=bot_user,
            owner=owner,
            verify_key=secrets.token_hex(32),
        )
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, StoredMessage] = {}
        #: Files users "uploaded" as attachment options, by attachment id.
        self.uploads: dict[int, bytes] = {}
        self.global_commands: dict[int, JSON] = {}
        self.guild_commands: dict[int, dict[int, JSON]] = {}
        #: Called with (event name, payload, guild id or None) for every change a gateway should announce.
        self.listener: Callable[[str, JSON, int | None], object] | None = None

    # -- identity ---------------------------------------------------------------------------------

    @property
    def bot_user(self) -> User:
        return self.application.bot

    def _new_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> User:
        user = User(id=self.snowflakes.next(), username=username, bot=bot, global_name=global_name)
        self.users[user.id] = user
        return user

    def _emit(self, event: str, payload: JSON, guild_id: int | None = None) -> None:
        if self.listener is not None:
            self.listener(event, payload, guild_id)

    # -- world building ---------------------------------------------------------------------------

    def add_guild(self, name: str, *, owner_username: str = "owner", locale: str = "en-US") -> Guild:
        """Create a guild with @everyone, the bot's managed role, an owner and the bot as members."""
        guild_id = self.snowflakes.next()
        owner = self._new_user(owner_username)
        guild = Guild(id=guild_id, name=name, owner_id=owner.id, preferred_locale=locale)
        guild.roles[guild_id] = Role(id=guild_id, name="@everyone", permissions=perms.DEFAULT_EVERYONE)
        bot_role = Role(
            id=self.snowflakes.next(),
            name=self.bot_user.username,
            permissions=perms.DEFAULT_BOT,
            position=1,
            managed=True,
            tags={"bot_id": str(self.bot_user.id)},
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = Member(user=owner, guild_id=guild_id)
        guild.members[self.bot_user.id] = Member(user=self.bot_user, guild_id=guild_id, roles=[bot_role.id])
        self.guilds[guild_id] = guild
        # A guild added while the bot is connected is a guild the bot was just invited to.
        self._emit("GUILD_CREATE", {}, guild_id)
        return guild

    def add_member(
        self,
        guild: Guild,
        username: str,
        *,
        manage_guild: bool = False,
        global_name: str | None = None,
        bot: bool = False,
    ) -> Member:
        """Add a user to a guild; ``manage_guild`` gives them a role carrying MANAGE_GUILD."""
        user = self._new_user(username, bot=bot, global_name=global_name)
        member = Member(user=user, guild_id=guild.id)
        if manage_guild:
            member.roles.append(self._manager_role(guild).id)
        guild.members[user.id] = member
        self._emit("GUILD_MEMBER_ADD", {**member.to_payload(), "guild_id": str(guild.id)}, guild.id)
        return member

    def _manager_role(self, guild: Guild) -> Role:
        for role in guild.roles.values():
            if role.name == "Moderator":
                return role
        role = Role(
            id=self.snowflakes.next(),
            name="Moderator",
            permissions=perms.DEFAULT_EVERYONE | perms.MANAGE_GUILD | perms.MANAGE_MESSAGES,
            position=len(guild.roles),
            hoist=True,
        )
        guild.roles[role.id] = role
        self._emit("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_payload()}, guild.id)
        return role

    def add_role(self, guild: Guild, name: str, permissions: int = 0) -> Role:
        role = Role(id=self.snowflakes.next(), name=name, permissions=permissions, position=len(guild.roles))
        guild.roles[role.id] = role
        self._emit("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_payload()}, guild.id)
        return role

    def _add_channel(self, guild: Guild, name: str, kind: int, **extra: Any) -> Channel:
        position = sum(1 for c in guild.channels.values() if c.type == kind)
        channel = Channel(
            id=self.snowflakes.next(), guild_id=guild.id, name=name, type=kind, position=position, **extra
        )
        guild.channels[channel.id] = channel
        self._emit("CHANNEL_CREATE", channel.to_payload(), guild.id)
        return channel

    def add_text_channel(self, guild: Guild, name: str = "general", *, topic: str | None = None) -> Channel:
        return self._add_channel(guild, name, GUILD_TEXT, topic=topic)

    def add_voice_channel(self, guild: Guild, name: str = "Lounge", *, user_limit: int = 0) -> Channel:
        return self._add_channel(guild, name, GUILD_VOICE, user_limit=user_limit)

    def join_voice(self, guild: Guild, member: Member, channel: Channel) -> VoiceState:
        """Put a member in a voice channel (moving them if they are already in one)."""
        if channel.type != GUILD_VOICE or channel.guild_id != guild.id:
            raise ValueError(f"{channel.name!r} is not a voice channel of {guild.name!r}")
        state = guild.voice_states.get(member.id)
        if state is None:
            state = VoiceState(guild_id=guild.id, channel_id=channel.id, user_id=member.id)
            guild.voice_states[member.id] = state
        else:
            state.channel_id = channel.id
        self._emit("VOICE_STATE_UPDATE", state.to_payload(member), guild.id)
        return state

    def leave_voice(self, guild: Guild, member: Member) -> None:
        state = guild.voice_states.pop(member.id, None)
        if state is not None:
            payload = state.to_payload(member)
            payload["channel_id"] = None
            self._emit("VOICE_STATE_UPDATE", payload, guild.id)

    # -- lookups ----------------------------------------------------------------------------------

    def find_channel(self, channel_id: int) -> tuple[Guild, Channel] | None:
        for guild in self.guilds.values():
            channel = guild.channels.get(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def commands_for(self, guild_id: int | None) -> list[JSON]:
        """Commands usable in a guild: its own first (they shadow global ones of the same name)."""
        found = list(self.guild_commands.get(guild_id, {}).values()) if guild_id else []
        names = {(c["name"], c.get("type", 1)) for c in found}
        found += [c for c in self.global_commands.values() if (c["name"], c.get("type", 1)) not in names]
        return found

    def find_command(self, guild_id: int | None, name: str, command_type: int = 1) -> JSON:
        for command in self.commands_for(guild_id):
            if command["name"] == name and command.get("type", 1) == command_type:
                return command
        known = sorted(c["name"] for c in self.commands_for(guild_id))
        raise KeyError(f"command {name!r} is not registered (registered: {known})")

    # -- application commands ---------------------------------------------------------------------

    def overwrite_commands(self, guild_id: int | None, payloads: Iterable[JSON]) -> list[JSON]:
        """Bulk overwrite, keeping the id of a command whose (name, type) already existed, as Discord does."""
        current = self.guild_commands.setdefault(guild_id, {}) if guild_id else self.global_commands
        by_key = {(c["name"], c.get("type", 1)): c for c in current.values()}
        result: dict[int, JSON] = {}
        for body in payloads:
            key = (body["name"], body.get("type", 1))
            previous = by_key.get(key)
            command = self._command_from_body(body, guild_id, previous)
            result[int(command["id"])] = command
        current.clear()
        current.update(result)
        return [copy.deepcopy(c) for c in result.values()]

    def upsert_command(self, guild_id: int | None, body: JSON) -> JSON:
        current = self.guild_commands.setdefault(guild_id, {}) if guild_id else self.global_commands
        previous = next(
            (c for c in current.values() if (c["name"], c.get("type", 1)) == (body["name"], body.get("type", 1))),
            None,
        )
        command = self._command_from_body(body, guild_id, previous)
        current[int(command["id"])] = command
        return copy.deepcopy(command)

    def _command_from_body(self, body: JSON, guild_id: int | None, previous: JSON | None) -> JSON:
        command_type = body.get("type") or 1
        command: JSON = {
            "id": previous["id"] if previous else str(self.snowflakes.next()),
            "application_id": str(self.application.id),
            "version": str(self.snowflakes.next()),
            "type": command_type,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "options": _normalise_options(body.get("options") or []),
            "default_member_permissions": (
                None if body.get("default_member_permissions") is None else str(body["default_member_permissions"])
            ),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
        }
        if guild_id:
            command["guild_id"] = str(guild_id)
        if not command["options"]:
            # Discord omits an empty options list in its responses.
            del command["options"]
        return command

    # -- messages ---------------------------------------------------------------------------------

    def create_message(
        self,
        channel: Channel,
        author: User,
        body: JSON,
        *,
        message_type: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: JSON | None = None,
        attachments: list[JSON] | None = None,
        files: dict[int, bytes] | None = None,
        extra_flags: int = 0,
    ) -> StoredMessage:
        """Store a message built from a create-message body (content, embeds, components, flags...)."""
        guild = self.guilds.get(channel.guild_id)
        message_id = self.snowflakes.next()
        flags = (int(body.get("flags") or 0) & SETTABLE_MESSAGE_FLAGS) | extra_flags
        payload: JSON = {
            "id": str(message_id),
            "type": message_type,
            "channel_id": str(channel.id),
            "author": author.to_payload(),
            "content": body.get("content") or "",
            "timestamp": iso_timestamp(snowflake_time(message_id)),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": _normalise_embeds(body.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "flags": flags,
            "components": _number_components(body.get("components") or []),
            "nonce": body.get("nonce"),
        }
        if body.get("poll"):
            payload["poll"] = body["poll"]
        if webhook_id is not None:
            payload["webhook_id"] = str(webhook_id)
            payload["application_id"] = str(self.application.id)
        if interaction_metadata is not None:
            payload["interaction_metadata"] = interaction_metadata
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(author.id)
            if member is not None:
                payload["member"] = member.to_payload(include_user=False)
        reference = body.get("message_reference")
        if reference and reference.get("message_id"):
            referenced = self.messages.get(int(reference["message_id"]))
            payload["type"] = 19  # REPLY
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(channel.id),
                "guild_id": str(channel.guild_id),
            }
            payload["referenced_message"] = copy.deepcopy(referenced.payload) if referenced else None
        self._fill_mentions(payload)
        stored = StoredMessage(payload=payload, files=dict(files or {}))
        self.messages[message_id] = stored
        if not flags & FLAG_EPHEMERAL:
            channel.last_message_id = message_id
            self._emit("MESSAGE_CREATE", copy.deepcopy(payload), channel.guild_id)
        return stored

    def edit_message(
        self,
        stored: StoredMessage,
        body: JSON,
        *,
        new_attachments: list[JSON] | None = None,
        files: dict[int, bytes] | None = None,
    ) -> StoredMessage:
        """Apply an edit body: only the keys present change, like Discord's PATCH semantics."""
        payload = stored.payload
        if "content" in body:
            payload["content"] = body["content"] or ""
        if "embeds" in body:
            payload["embeds"] = _normalise_embeds(body["embeds"] or [])
        if "components" in body:
            payload["components"] = _number_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            # Ephemeral-ness can't change after creation; the other settable flags can.
            keep = payload["flags"] & ~(SETTABLE_MESSAGE_FLAGS & ~FLAG_EPHEMERAL)
            payload["flags"] = keep | (int(body["flags"]) & SETTABLE_MESSAGE_FLAGS & ~FLAG_EPHEMERAL)
        if "poll" in body:
            payload["poll"] = body["poll"]
        if "attachments" in body or new_attachments:
            kept_ids = {
                str(a.get("id"))
                for a in (body.get("attachments") or [])
                if isinstance(a, dict) and a.get("id") is not None
            }
            kept = (
                [a for a in payload["attachments"] if a["id"] in kept_ids]
                if "attachments" in body
                else list(payload["attachments"])
            )
            payload["attachments"] = kept + (new_attachments or [])
            stored.files = {k: v for k, v in stored.files.items() if str(k) in {a["id"] for a in kept}}
            stored.files.update(files or {})
        # A deferred "thinking" message stops loading once it is edited.
        payload["flags"] &= ~FLAG_LOADING
        payload["edited_timestamp"] = iso_timestamp()
        self._fill_mentions(payload)
        if not payload["flags"] & FLAG_EPHEMERAL:
            guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
            self._emit("MESSAGE_UPDATE", copy.deepcopy(payload), guild_id)
        return stored

    def delete_message(self, stored: StoredMessage) -> None:
        stored.deleted = True
        payload = stored.payload
        if not payload["flags"] & FLAG_EPHEMERAL:
            event: JSON = {"id": payload["id"], "channel_id": payload["channel_id"]}
            if payload.get("guild_id"):
                event["guild_id"] = payload["guild_id"]
            self._emit("MESSAGE_DELETE", event, int(payload["guild_id"]) if payload.get("guild_id") else None)

    def live_message(self, message_id: int) -> StoredMessage | None:
        stored = self.messages.get(message_id)
        return None if stored is None or stored.deleted else stored

    def channel_messages(self, channel_id: int) -> list[JSON]:
        """Messages in a channel, oldest first (deleted ones left out)."""
        return [m.payload for m in self.messages.values() if not m.deleted and m.channel_id == channel_id]

    def _fill_mentions(self, payload: JSON) -> None:
        ids = {int(x) for x in _MENTION.findall(payload.get("content") or "")}
        payload["mentions"] = [self.users[i].to_payload() for i in sorted(ids) if i in self.users]
        payload["mention_everyone"] = "@everyone" in (payload.get("content") or "")


def _normalise_embeds(embeds: list[JSON]) -> list[JSON]:
    """Discord stores embeds with ``type: rich`` and echoes them back with it."""
    out = []
    for embed in embeds:
        embed = copy.deepcopy(embed)
        embed.setdefault("type", "rich")
        embed.setdefault("content_scan_version", 0)
        out.append(embed)
    return out


def _number_components(components: list[JSON]) -> list[JSON]:
    """Discord assigns each component a numeric ``id`` (depth first, from 1) when the bot sent none."""
    result = copy.deepcopy(components)
    counter = 0

    def visit(items: list[JSON]) -> None:
        nonlocal counter
        for item in items:
            counter += 1
            if not item.get("id"):
                item["id"] = counter
            visit(item.get("components") or [])
            if isinstance(item.get("accessory"), dict):
                counter += 1
                item["accessory"].setdefault("id", counter)

    visit(result)
    return result


def _normalise_options(options: list[JSON]) -> list[JSON]:
    out = []
    for option in options:
        option = {k: v for k, v in option.items() if v is not None}
        if option.get("options"):
            option["options"] = _normalise_options(option["options"])
        out.append(option)
    return out
