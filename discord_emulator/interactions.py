"""Driving the bot like a Discord user would: slash commands, autocomplete, button clicks, modals.

Each method builds the INTERACTION_CREATE payload Discord would send (typed options checked against the
registered command, as the Discord client does before sending), dispatches it over the gateway and
returns an :class:`InteractionRecord` that fills in as the bot answers over REST.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from discord_emulator.command_schema import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    USER,
    check_can_use,
    check_names_and_required,
    nest,
    walk_subcommand,
)
from discord_emulator.gateway import Gateway
from discord_emulator.guild import Guild
from discord_emulator.models import JSON, Channel, Member, Role, User
from discord_emulator.records import InteractionRecord, InteractionRegistry, check_click, find_component
from discord_emulator.state import EmulatorState

# Interaction types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Application command types (``data.type``); chat input is 1.
USER_COMMAND = 2


#: Upload limit reported to the bot for a guild without boosts (10 MiB since 2024).
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class InteractionDriver:
    """Builds and dispatches interactions, registering a record for each."""

    def __init__(
        self,
        state: EmulatorState,
        gateway: Gateway,
        registry: InteractionRegistry,
        *,
        base_url: Callable[[], str] = lambda: "http://127.0.0.1",
        locale: str = "en-US",
    ) -> None:
        self.state = state
        self._base_url = base_url
        self.gateway = gateway
        self.registry = registry
        #: The user's client locale sent as ``locale``.
        self.locale = locale

    # -- public API -------------------------------------------------------------------------------

    async def invoke(
        self,
        guild: Guild,
        channel: Channel,
        member: Member,
        command_name: str,
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
        *,
        crafted: bool = False,
        in_dm: bool = False,
    ) -> InteractionRecord:
        """Run a chat-input command as ``member`` typed it in ``channel``.

        ``crafted``: sent by hand, not by Discord's client: no permission hiding, no range or choice
        checks. ``in_dm``: from a direct message with the bot (no guild, a user instead of a member).
        """
        command = self.state.find_command(guild.id, command_name)
        if not crafted:
            check_can_use(command, guild, channel, member)
        schema, path = walk_subcommand(command, subcommand)
        given = dict(options or {})
        check_names_and_required(command_name, schema, given)
        resolved: JSON = {}
        typed = [
            self._option(o, given[o["name"]], guild, resolved, strict=not crafted) for o in schema if o["name"] in given
        ]
        data = self._command_data(command, nest(path, typed), resolved)
        return self._dispatch(APPLICATION_COMMAND, guild, channel, member, data=data, in_dm=in_dm)

    async def invoke_user_command(
        self,
        guild: Guild,
        channel: Channel,
        member: Member,
        command_name: str,
        target: Member | User | int,
        *,
        crafted: bool = False,
        in_dm: bool = False,
    ) -> InteractionRecord:
        """``member`` right-clicks ``target`` and picks the USER command ``command_name`` (type 2).

        As Discord sends it: no options, ``target_id`` and the target in ``resolved.users`` (and in
        ``resolved.members`` when they are in the guild). ``crafted`` and ``in_dm`` as for :meth:`invoke`.
        """
        command = self.state.find_command(guild.id, command_name, USER_COMMAND)
        if not crafted:
            check_can_use(command, guild, channel, member)
        resolved: JSON = {}
        data = self._command_data(command, [], resolved)
        data["target_id"] = str(self._resolve_user(target, guild, resolved).id)
        data["resolved"] = resolved
        return self._dispatch(APPLICATION_COMMAND, guild, channel, member, data=data, in_dm=in_dm)

    async def autocomplete(
        self,
        guild: Guild,
        channel: Channel,
        member: Member,
        command_name: str,
        focused_option: str,
        value: str,
        other_options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """The user is typing ``value`` into ``focused_option``; the bot should answer with choices (type 8)."""
        command = self.state.find_command(guild.id, command_name)
        check_can_use(command, guild, channel, member)
        schema, path = walk_subcommand(command, subcommand)
        by_name = {o["name"]: o for o in schema}
        focused = by_name.get(focused_option)
        if focused is None:
            raise ValueError(f"/{command_name} has no option {focused_option!r} (options: {sorted(by_name)})")
        if not focused.get("autocomplete"):
            raise ValueError(f"option {focused_option!r} of /{command_name} does not have autocomplete enabled")
        resolved: JSON = {}
        typed = []
        for option in schema:
            name = option["name"]
            if name == focused_option:
                # The partial text the user typed is always sent as a string, whatever the option type.
                typed.append({"name": name, "type": option["type"], "value": str(value), "focused": True})
            elif other_options and name in other_options:
                typed.append(self._option(option, other_options[name], guild, resolved, strict=False))
        unknown = set(other_options or {}) - set(by_name)
        if unknown:
            raise ValueError(f"/{command_name} has no option(s) {sorted(unknown)}")
        data = self._command_data(command, nest(path, typed), resolved)
        return self._dispatch(APPLICATION_COMMAND_AUTOCOMPLETE, guild, channel, member, data=data)

    async def click(
        self,
        record_or_message: InteractionRecord | Mapping[str, Any] | int,
        custom_id: str,
        member: Member,
        *,
        values: list[str] | None = None,
        crafted: bool = False,
    ) -> InteractionRecord:
        """Press the button (or choose ``values`` in the select menu) with ``custom_id`` on a bot message.

        ``crafted``: sent by hand, not by Discord's client: ``custom_id`` need not be on the message (it is then
        sent as a button's, or as a select menu's if ``values`` are given), and nothing is checked: not who may
        see the message, not whether the component is enabled, not the values.
        """
        if crafted:
            message = self._latest_message(record_or_message)
            component = find_component(message.get("components") or [], custom_id) or {
                "type": 2 if values is None else 3
            }
        else:
            message = self._find_message(record_or_message, custom_id)
            component = find_component(message.get("components") or [], custom_id)
            check_click(message, component, custom_id, member.id, values)
        guild_id = int(message["guild_id"])
        guild = self.state.guilds[guild_id]
        channel = guild.channels[int(message["channel_id"])]
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if component.get("id"):
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        return self._dispatch(MESSAGE_COMPONENT, guild, channel, member, data=data, message=copy.deepcopy(message))

    async def submit_modal(
        self, record: InteractionRecord, values: Mapping[str, str], member: Member | None = None
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot opened in answer to ``record`` (callback type 9)."""
        if record.callback is None or record.callback.type != 9 or record.callback.data is None:
            raise ValueError(f"{record!r} did not open a modal")
        modal = record.callback.data
        guild = self.state.guilds[record.guild_id or 0]
        channel = guild.channels[record.channel_id or 0]
        if member is None:
            member = guild.members[int(record.payload["member"]["user"]["id"])]
        remaining = dict(values)

        def fill(component: JSON) -> JSON:
            if component.get("type") == 1:
                return {"type": 1, "components": [fill(c) for c in component.get("components") or []]}
            if component.get("type") == 18:
                return {"type": 18, "id": component.get("id", 0), "component": fill(component["component"])}
            custom_id = str(component.get("custom_id") or "")
            value = remaining.pop(custom_id, component.get("value") or "")
            if component.get("required", True) and component.get("type") == 4 and not value:
                raise ValueError(f"modal field {custom_id!r} is required")
            return {"type": component.get("type", 4), "custom_id": custom_id, "value": value}

        components = [fill(c) for c in modal.get("components") or []]
        if remaining:
            raise ValueError(f"the modal has no field(s) {sorted(remaining)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        message = record.payload.get("message") if record.type == MESSAGE_COMPONENT else None
        return self._dispatch(MODAL_SUBMIT, guild, channel, member, data=data, message=message)

    async def send_message(self, guild: Guild, channel: Channel, member: Member, content: str) -> JSON:
        """A user posts in a channel (MESSAGE_CREATE; content hidden without the MESSAGE_CONTENT intent)."""
        if channel.guild_id != guild.id:
            raise ValueError(f"channel {channel.name!r} is not in {guild.name!r}")
        return self.state.messages.create(channel, member.user, {"content": content}).payload

    # -- payload building -------------------------------------------------------------------------

    def _dispatch(
        self,
        kind: int,
        guild: Guild,
        channel: Channel,
        member: Member,
        *,
        data: JSON,
        message: JSON | None = None,
        in_dm: bool = False,
    ) -> InteractionRecord:
        if not self.gateway.live_sessions:
            raise RuntimeError("no bot is connected to the emulator's gateway: nothing would receive the interaction")
        if member.id not in guild.members:
            raise ValueError(f"{member.user.username!r} is not a member of {guild.name!r}")
        if channel.guild_id != guild.id:
            raise ValueError(f"channel {channel.name!r} is not in {guild.name!r}")
        payload = self._base_payload(kind, guild, channel, member)
        if in_dm:
            payload = _from_a_dm(payload, member)
        payload["data"] = data
        if message is not None:
            payload["message"] = message
        record = InteractionRecord(self.state, payload)
        self.registry.add(record)
        self.gateway.dispatch("INTERACTION_CREATE", payload, None if in_dm else guild.id)
        return record

    def _base_payload(self, kind: int, guild: Guild, channel: Channel, member: Member) -> JSON:
        me = guild.members[self.state.bot_user.id]
        channel_payload = channel.to_payload()
        channel_payload["permissions"] = str(guild.permissions_in(member, channel))
        return {
            "id": str(self.state.snowflakes.next()),
            "application_id": str(self.state.application.id),
            "type": kind,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96),
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload,
            "member": member.to_payload(permissions=guild.permissions_in(member, channel)),
            "app_permissions": str(guild.permissions_in(me, channel)),
            "locale": self.locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }

    def _command_data(self, command: JSON, options: list[JSON], resolved: JSON) -> JSON:
        data: JSON = {"id": command["id"], "name": command["name"], "type": command.get("type", 1)}
        if command.get("guild_id"):
            # discord.py looks guild commands up by this key; without it only global ones are found.
            data["guild_id"] = command["guild_id"]
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(self, schema: JSON, value: Any, guild: Guild, resolved: JSON, *, strict: bool = True) -> JSON:
        """Type a user-supplied value per the option schema, filling ``resolved`` for entity options."""
        kind = schema["type"]
        name = schema["name"]
        out: JSON = {"name": name, "type": kind}
        if kind == STRING:
            value = str(value)
            if strict:
                if len(value) < schema.get("min_length", 0) or len(value) > schema.get("max_length", 6000):
                    raise ValueError(f"option {name!r}: length {len(value)} outside the allowed range")
        elif kind == INTEGER:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                and not (isinstance(value, str) and value.lstrip("-").isdigit())
            ):
                raise ValueError(f"option {name!r} needs an integer, got {value!r}")
            value = int(value)
        elif kind == NUMBER:
            value = float(value)
        elif kind == BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"option {name!r} needs a bool, got {value!r}")
        elif kind == USER or (kind == MENTIONABLE and isinstance(value, (Member, User))):
            value = str(self._resolve_user(value, guild, resolved).id)
        elif kind in (ROLE, MENTIONABLE):
            role = value if isinstance(value, Role) else guild.roles.get(int(value))
            if role is None:
                raise ValueError(f"option {name!r}: unknown role {value!r}")
            resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            value = str(role.id)
        elif kind == CHANNEL:
            channel = value if isinstance(value, Channel) else guild.channels.get(int(value))
            if channel is None:
                raise ValueError(f"option {name!r}: unknown channel {value!r}")
            if schema.get("channel_types") and channel.type not in schema["channel_types"]:
                raise ValueError(f"option {name!r} accepts channel types {schema['channel_types']}, not {channel.type}")
            resolved.setdefault("channels", {})[str(channel.id)] = {
                "id": str(channel.id),
                "name": channel.name,
                "type": channel.type,
                "guild_id": str(guild.id),
                "parent_id": None,
                "permissions": str(perms_all_for(guild, channel, self.state)),
                "flags": 0,
            }
            value = str(channel.id)
        elif kind == ATTACHMENT:
            filename, blob = value
            attachment_id = self.state.snowflakes.next()
            self.state.uploads[attachment_id] = bytes(blob)
            url = f"{self._base_url()}/attachments/0/{attachment_id}/{filename}"
            resolved.setdefault("attachments", {})[str(attachment_id)] = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(blob),
                "url": url,
                "proxy_url": url,
                "ephemeral": True,
            }
            value = str(attachment_id)
        else:
            raise ValueError(f"option {name!r} has unsupported type {kind}")
        if strict and kind in (INTEGER, NUMBER):
            if (
                "min_value" in schema
                and value < schema["min_value"]
                or "max_value" in schema
                and value > schema["max_value"]
            ):
                raise ValueError(
                    f"option {name!r}: {value} outside [{schema.get('min_value')}, {schema.get('max_value')}]"
                )
        if strict and schema.get("choices") and value not in [c["value"] for c in schema["choices"]]:
            raise ValueError(f"option {name!r}: {value!r} is not one of its choices")
        out["value"] = value
        return out

    def _resolve_user(self, value: Any, guild: Guild, resolved: JSON) -> User:
        """Add a user (and, if in the guild, their member without ``user``) to ``resolved``."""
        user = self._user_for(value)
        resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
        member = guild.members.get(user.id)
        if member is not None:
            resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                include_user=False, permissions=guild.base_permissions(member)
            )
        return user

    def _user_for(self, value: Any) -> User:
        if isinstance(value, Member):
            return value.user
        if isinstance(value, User):
            return value
        user = self.state.users.get(int(value))
        if user is None:
            raise ValueError(f"unknown user {value!r}")
        return user

    def _latest_message(self, target: InteractionRecord | Mapping[str, Any] | int) -> JSON:
        """The message a crafted click names: a record's latest, or the live message with that id."""
        if isinstance(target, InteractionRecord):
            messages = target.messages()
            if not messages:
                raise ValueError(f"{target!r} produced no message")
            return messages[-1]
        return self._find_message(target, "")

    def _find_message(self, target: InteractionRecord | Mapping[str, Any] | int, custom_id: str) -> JSON:
        if isinstance(target, InteractionRecord):
            for message in reversed(target.messages()):
                if find_component(message.get("components") or [], custom_id) is not None:
                    return message
            raise ValueError(f"none of {target!r}'s messages has a component {custom_id!r}")
        message_id = int(target["id"]) if isinstance(target, Mapping) else int(target)
        stored = self.state.messages.live(message_id)
        if stored is None:
            raise ValueError(f"message {message_id} does not exist (or was deleted)")
        return stored.payload


def perms_all_for(guild: Guild, channel: Channel, state: EmulatorState) -> int:
    """The bot's permissions in a channel (resolved channels carry the invoking context's view)."""
    me = guild.members.get(state.bot_user.id)
    return guild.permissions_in(me, channel) if me else 0


def _from_a_dm(payload: JSON, member: Member) -> JSON:
    """The same interaction as Discord sends it from a DM: a user instead of a member, no guild.

    The emulator keeps no DM channels, so the answer is stored with the channel's own messages."""
    channel_id = payload["channel_id"]
    for key in ("guild_id", "guild", "member", "guild_locale"):
        payload.pop(key, None)
    user = member.user.to_payload()
    payload |= {
        "user": user,
        "channel": {"id": channel_id, "type": 1, "flags": 0, "recipients": [user]},
        "authorizing_integration_owners": {"1": user["id"]},
        "context": 1,
    }
    return payload
