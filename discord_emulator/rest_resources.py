"""REST handlers for the world itself: the gateway URL, users, the application, its commands, channels,
channel messages and guilds."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from discord_emulator import limits
from discord_emulator import permissions as perms
from discord_emulator.attachments import Attachments
from discord_emulator.guild import Guild
from discord_emulator.messages import FLAG_EPHEMERAL, StoredMessage
from discord_emulator.models import JSON, Channel
from discord_emulator.rest_http import (
    DiscordError,
    ParsedRequest,
    json_response,
    no_content,
    refuse_empty_message,
    snowflake,
)
from discord_emulator.state import EmulatorState


class Resources:
    """Handlers of the bot-authenticated routes (everything but interaction callbacks and webhooks)."""

    def __init__(
        self,
        state: EmulatorState,
        attachments: Attachments,
        *,
        gateway_url: Callable[[], str],
        privileged_intents: Callable[[], frozenset[str]],
    ) -> None:
        self.state = state
        self._attachments = attachments
        self._gateway_url = gateway_url
        self._privileged = privileged_intents

    # -- lookups ----------------------------------------------------------------------------------

    def _guild(self, guild_id: str) -> Guild:
        guild = self.state.guilds.get(snowflake(guild_id))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    def _channel(self, channel_id: str, needed: int = perms.VIEW_CHANNEL) -> tuple[Guild, Channel]:
        found = self.state.find_channel(snowflake(channel_id))
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        guild, channel = found
        me = guild.members.get(self.state.bot_user.id)
        if me is None or guild.permissions_in(me, channel) & needed != needed:
            raise DiscordError(
                403,
                50001 if needed == perms.VIEW_CHANNEL else 50013,
                "Missing Access" if needed == perms.VIEW_CHANNEL else "Missing Permissions",
            )
        return guild, channel

    def _check_application(self, application_id: str) -> None:
        if snowflake(application_id) != self.state.application.id:
            raise DiscordError(403, 50001, "Missing Access")

    # -- gateway, users, application --------------------------------------------------------------

    async def get_gateway(self, req: ParsedRequest) -> web.Response:
        return json_response({"url": self._gateway_url()})

    async def get_gateway_bot(self, req: ParsedRequest) -> web.Response:
        return json_response(
            {
                "url": self._gateway_url(),
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_me(self, req: ParsedRequest) -> web.Response:
        user = self.state.bot_user.to_payload()
        user.update(verified=True, mfa_enabled=True, email=None, locale="en-US", flags=0)
        return json_response(user)

    async def get_my_guilds(self, req: ParsedRequest) -> web.Response:
        out: list[JSON] = []
        for guild in self.state.guilds.values():
            me = guild.members.get(self.state.bot_user.id)
            out.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": None,
                    "banner": None,
                    "owner": guild.owner_id == self.state.bot_user.id,
                    "permissions": str(guild.base_permissions(me)) if me else "0",
                    "features": [],
                }
            )
        return json_response(out)

    async def get_user(self, req: ParsedRequest) -> web.Response:
        user = self.state.users.get(snowflake(req.params["user_id"]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return json_response(user.to_payload())

    async def get_application(self, req: ParsedRequest) -> web.Response:
        return json_response(self.state.application.to_payload())

    # -- application commands ---------------------------------------------------------------------

    def _command_scope(self, req: ParsedRequest) -> int | None:
        self._check_application(req.params["application_id"])
        if "guild_id" in req.params:
            return self._guild(req.params["guild_id"]).id
        return None

    async def list_commands(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        source = self.state.registered_commands(guild_id)
        return json_response(list(source.values()))

    async def put_commands(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        bodies = req.body(limits.check_commands, shape=list)
        return json_response(self.state.overwrite_commands(guild_id, bodies))

    async def post_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        body = req.body(limits.check_command)
        existed = any(c["name"] == body.get("name") for c in self.state.commands_for(guild_id))
        return json_response(self.state.upsert_command(guild_id, body), 200 if existed else 201)

    async def get_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        source = self.state.registered_commands(guild_id)
        command = source.get(snowflake(req.params["command_id"]))
        if command is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return json_response(command)

    async def delete_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        source = self.state.registered_commands(guild_id)
        if source.pop(snowflake(req.params["command_id"]), None) is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return no_content()

    # -- channels and messages --------------------------------------------------------------------

    async def get_channel(self, req: ParsedRequest) -> web.Response:
        _, channel = self._channel(req.params["channel_id"])
        return json_response(channel.to_payload())

    async def list_messages(self, req: ParsedRequest) -> web.Response:
        _, channel = self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        messages = [m for m in self.state.messages.in_channel(channel.id) if not m["flags"] & FLAG_EPHEMERAL]
        if req.query.get("before"):
            messages = [m for m in messages if int(m["id"]) < snowflake(req.query["before"])]
        if req.query.get("after"):
            messages = [m for m in messages if int(m["id"]) > snowflake(req.query["after"])]
        limit = max(1, min(100, snowflake(req.query.get("limit", "50"))))
        newest_first = sorted(messages, key=lambda m: int(m["id"]), reverse=True)
        return json_response(newest_first[:limit])

    async def create_message(self, req: ParsedRequest) -> web.Response:
        needed = perms.VIEW_CHANNEL | perms.SEND_MESSAGES
        if req.files:
            needed |= perms.ATTACH_FILES
        guild, channel = self._channel(req.params["channel_id"], needed)
        body = req.body(limits.check_message)
        refuse_empty_message(body, req.files)
        body = {**body, "flags": (body.get("flags") or 0) & ~FLAG_EPHEMERAL}  # channel messages can't be ephemeral
        attachments, blobs = self._attachments.from_uploads(channel, body, req.files, ephemeral=False)
        stored = self.state.messages.create(channel, self.state.bot_user, body, attachments=attachments, files=blobs)
        return json_response(stored.payload)

    def _channel_message(self, req: ParsedRequest) -> tuple[Channel, StoredMessage]:
        _, channel = self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        stored = self.state.messages.live(snowflake(req.params["message_id"]))
        if stored is None or stored.channel_id != channel.id or stored.payload["flags"] & FLAG_EPHEMERAL:
            raise DiscordError(404, 10008, "Unknown Message")
        return channel, stored

    async def get_message(self, req: ParsedRequest) -> web.Response:
        _, stored = self._channel_message(req)
        return json_response(stored.payload)

    async def edit_message(self, req: ParsedRequest) -> web.Response:
        channel, stored = self._channel_message(req)
        if stored.payload["author"]["id"] != str(self.state.bot_user.id) or stored.payload.get("webhook_id"):
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = req.body(limits.check_message)
        new_attachments, blobs = self._attachments.from_uploads(channel, body, req.files, ephemeral=False)
        self.state.messages.edit(stored, body, new_attachments=new_attachments, files=blobs)
        return json_response(stored.payload)

    async def delete_message(self, req: ParsedRequest) -> web.Response:
        channel, stored = self._channel_message(req)
        if stored.payload["author"]["id"] != str(self.state.bot_user.id):
            self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        self.state.messages.delete(stored)
        return no_content()

    async def typing(self, req: ParsedRequest) -> web.Response:
        self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        return no_content()

    # -- guilds -----------------------------------------------------------------------------------

    async def get_guild(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        payload = guild.to_rest_payload()
        if req.query.get("with_counts", "").lower() in ("1", "true"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return json_response(payload)

    async def get_guild_channels(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response([c.to_payload() for c in guild.channels.values()])

    async def get_guild_roles(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        return json_response([r.to_payload() for r in guild.roles.values()])

    async def list_members(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        if "members" not in self._privileged():
            # Listing members needs the privileged GUILD_MEMBERS intent enabled for the application.
            raise DiscordError(403, 50001, "Missing Access")
        after = snowflake(req.query.get("after", "0"))
        limit = max(1, min(1000, snowflake(req.query.get("limit", "1"))))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([m.to_payload() for m in members[:limit]])

    async def get_member(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        member = guild.members.get(snowflake(req.params["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return json_response(member.to_payload())
