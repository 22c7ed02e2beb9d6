"""The emulated Discord world: the application, its bot user, guilds and their members, commands and messages.

Mutations made after a client has connected are announced through ``EmulatorState.listener`` so the gateway
can dispatch the matching events (GUILD_MEMBER_ADD, VOICE_STATE_UPDATE, ...), as Discord would.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from discord_emulator import permissions as perms
from discord_emulator import presences
from discord_emulator.guild import Guild
from discord_emulator.messages import MessageStore
from discord_emulator.models import GUILD_TEXT, GUILD_VOICE, JSON, Application, Channel, Member, Role, User, VoiceState
from discord_emulator.snowflake import SnowflakeGenerator


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
        self.messages = MessageStore(
            snowflakes=self.snowflakes,
            users=self.users,
            guilds=self.guilds,
            application_id=self.application.id,
            emit=self._emit,
        )
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

    @property
    def application_id(self) -> int:
        return self.application.id

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

    def add_text_channel(
        self, guild: Guild, name: str = "general", *, topic: str | None = None, overwrites: list[JSON] | None = None
    ) -> Channel:
        """A text channel; ``overwrites``: its permission overwrites (``{"id", "type", "allow", "deny"}``)."""
        return self._add_channel(guild, name, GUILD_TEXT, topic=topic, permission_overwrites=list(overwrites or []))

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

    def set_presence(
        self, guild: Guild, member: Member, *, status: str = "online", activities: Sequence[JSON] = ()
    ) -> JSON:
        """The member's presence changes (PRESENCE_UPDATE, to sessions with GUILD_PRESENCES only)."""
        payload = presences.presence_update(guild.id, member.id, status, activities)
        if status == "offline":
            guild.presences.pop(member.id, None)
        else:
            guild.presences[member.id] = payload
        self._emit("PRESENCE_UPDATE", payload, guild.id)
        return payload

    def listen(self, guild: Guild, member: Member, artists: str | Sequence[str], track: str, **spotify: Any) -> JSON:
        """The member starts playing `track` by `artists` on Spotify, as Discord's client reports it."""
        names = [artists] if isinstance(artists, str) else list(artists)
        activity = presences.spotify_activity(member.id, names, track, **spotify)
        return self.set_presence(guild, member, activities=[activity])

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

    def commands_for(self, scope: Guild | int | None = None) -> list[JSON]:
        """Commands usable in a guild (or its id): its own first, as they shadow global ones; None: global ones."""
        guild_id = scope.id if isinstance(scope, Guild) else scope
        found = list(self.guild_commands.get(guild_id, {}).values()) if guild_id else []
        names = {_command_key(c) for c in found}
        found += [c for c in self.global_commands.values() if _command_key(c) not in names]
        return found

    def find_command(self, guild_id: int | None, name: str, command_type: int = 1) -> JSON:
        for command in self.commands_for(guild_id):
            if command["name"] == name and command.get("type", 1) == command_type:
                return command
        known = sorted(c["name"] for c in self.commands_for(guild_id))
        raise KeyError(f"command {name!r} is not registered (registered: {known})")

    # -- application commands ---------------------------------------------------------------------

    def registered_commands(self, guild_id: int | None, *, create: bool = False) -> dict[int, JSON]:
        """The commands registered in one scope (a guild's own, or the global ones), by id."""
        if not guild_id:
            return self.global_commands
        if create:
            return self.guild_commands.setdefault(guild_id, {})
        return self.guild_commands.get(guild_id, {})

    def overwrite_commands(self, guild_id: int | None, payloads: Iterable[JSON]) -> list[JSON]:
        """Bulk overwrite, keeping the id of a command whose (name, type) already existed, as Discord does."""
        current = self.registered_commands(guild_id, create=True)
        by_key = {_command_key(c): c for c in current.values()}
        result: dict[int, JSON] = {}
        for body in payloads:
            previous = by_key.get(_command_key(body))
            command = self._command_from_body(body, guild_id, previous)
            result[int(command["id"])] = command
        current.clear()
        current.update(result)
        return [copy.deepcopy(c) for c in result.values()]

    def upsert_command(self, guild_id: int | None, body: JSON) -> JSON:
        current = self.registered_commands(guild_id, create=True)
        previous = next((c for c in current.values() if _command_key(c) == _command_key(body)), None)
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


def _command_key(command: JSON) -> tuple[str, int]:
    """Discord keys commands by (name, type): a slash command and a context-menu one may share a name."""
    return command["name"], command.get("type", 1)


def _normalise_options(options: list[JSON]) -> list[JSON]:
    out = []
    for option in options:
        option = {k: v for k, v in option.items() if v is not None}
        if option.get("options"):
            option["options"] = _normalise_options(option["options"])
        out.append(option)
    return out
