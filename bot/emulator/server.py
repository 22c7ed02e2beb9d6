"""``DiscordEmulator``: one aiohttp server on 127.0.0.1 with the gateway, the REST API and the test hooks."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import yarl
from aiohttp import web

from bot.emulator.gateway import PRIVILEGED_INTENTS, Gateway
from bot.emulator.interactions import InteractionDriver
from bot.emulator.records import GatewayEvent, InteractionRecord, InteractionRegistry, RecordedRequest
from bot.emulator.rest import API_PREFIX, Fault, RestAPI
from bot.emulator.state import JSON, Channel, EmulatorState, Guild, Member, Role, VoiceState


def make_token(bot_id: int) -> str:
    """A token shaped like Discord's: base64(user id) . 6 chars . 38 chars."""
    head = base64.urlsafe_b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(8)[:6]}.{secrets.token_urlsafe(32)[:38]}"


class ClientRedirect:
    """Points discord.py at the emulator; as a context manager it restores the real Discord URLs on exit."""

    def __init__(self, api_base: str, gateway_url: str) -> None:
        import discord.gateway
        import discord.http

        self._route = discord.http.Route
        self._ws = discord.gateway.DiscordWebSocket
        self.original_base: str = self._route.BASE
        self.original_gateway: yarl.URL = self._ws.DEFAULT_GATEWAY
        # Route.BASE is a plain class attribute read when each Route is built (webhooks use it too).
        self._route.BASE = api_base
        # DEFAULT_GATEWAY is a yarl.URL; discord.py adds ?v=10&encoding=json&compress=... itself.
        self._ws.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore(self) -> None:
        self._route.BASE = self.original_base
        self._ws.DEFAULT_GATEWAY = self.original_gateway

    def __enter__(self) -> ClientRedirect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


class DiscordEmulator:
    """A local Discord (gateway + REST, API v10) that an unmodified discord.py client can log in to."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "Encore",
        heartbeat_interval_ms: int = 41_250,
        interaction_deadline: float | None = 3.0,
        privileged_intents: frozenset[str] | set[str] = frozenset(PRIVILEGED_INTENTS),
        locale: str = "en-US",
    ) -> None:
        self.state = EmulatorState(bot_username=bot_username, application_name=bot_username)
        #: The bot token the emulator accepts (REST "Authorization: Bot <token>" and gateway IDENTIFY).
        self.token: str = token or make_token(self.state.bot_user.id)
        self.privileged_intents = frozenset(privileged_intents)
        self.interactions = InteractionRegistry()
        self.gateway_events: list[GatewayEvent] = []
        self.gateway = Gateway(
            self.state,
            token_check=lambda t: t == self.token,
            resume_url=lambda: self.resume_gateway_url,
            heartbeat_interval_ms=heartbeat_interval_ms,
            privileged_intents=self.privileged_intents,
            log=self.gateway_events,
        )
        self.rest = RestAPI(
            self.state,
            self.interactions,
            token_check=lambda t: t == self.token,
            base_url=lambda: self.base_url,
            gateway_url=lambda: self.gateway_url,
            privileged_intents=lambda: self.privileged_intents,
            interaction_deadline=interaction_deadline,
        )
        self.driver = InteractionDriver(
            self.state, self.gateway, self.interactions, base_url=lambda: self.base_url, locale=locale
        )
        self.state.listener = self.gateway.dispatch
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.rest.serve_attachment)
        app.router.add_get("/", self._index)
        app.router.add_route("*", API_PREFIX + "{tail:.*}", self.rest.handle)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._host = host
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Close every gateway socket and stop listening. Safe to call twice."""
        if self._runner is None:
            return
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _index(self, request: web.Request) -> web.Response:
        return web.json_response({"emulator": "discord", "api": self.api_base, "gateway": self.gateway_url})

    # -- addresses --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        # A different path than the first connection, so tests can see the client honoured READY's URL.
        return f"ws://{self._host}:{self.port}/resume"

    def point_client_here(self) -> ClientRedirect:
        """Redirect discord.py (REST and gateway) here; use as ``with emu.point_client_here(): ...`` to undo."""
        return ClientRedirect(self.api_base, self.gateway_url)

    # -- records ----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.rest.requests

    @property
    def internal_errors(self) -> list[str]:
        return self.rest.internal_errors

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Recorded requests routed to a template, e.g. ``("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")``."""
        return [r for r in self.requests if r.method == method and r.route == route]

    # -- world building (see EmulatorState) -------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.state.application.id

    def add_guild(self, name: str, **kwargs: Any) -> Guild:
        return self.state.add_guild(name, **kwargs)

    def add_member(self, guild: Guild, username: str, *, manage_guild: bool = False, **kwargs: Any) -> Member:
        return self.state.add_member(guild, username, manage_guild=manage_guild, **kwargs)

    def add_role(self, guild: Guild, name: str, permissions: int = 0) -> Role:
        return self.state.add_role(guild, name, permissions)

    def add_text_channel(self, guild: Guild, name: str = "general", **kwargs: Any) -> Channel:
        return self.state.add_text_channel(guild, name, **kwargs)

    def add_voice_channel(self, guild: Guild, name: str = "Lounge", **kwargs: Any) -> Channel:
        return self.state.add_voice_channel(guild, name, **kwargs)

    def join_voice(self, guild: Guild, member: Member, channel: Channel) -> VoiceState:
        return self.state.join_voice(guild, member, channel)

    def leave_voice(self, guild: Guild, member: Member) -> None:
        self.state.leave_voice(guild, member)

    def commands(self, guild: Guild | None = None) -> list[JSON]:
        """Registered commands: a guild's own plus global ones (or only global ones)."""
        return self.state.commands_for(guild.id if guild else None)

    # -- driving the bot --------------------------------------------------------------------------

    async def invoke(
        self,
        guild: Guild,
        channel: Channel,
        member: Member,
        command_name: str,
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        return await self.driver.invoke(guild, channel, member, command_name, options, subcommand)

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
        return await self.driver.autocomplete(
            guild, channel, member, command_name, focused_option, value, other_options, subcommand
        )

    async def click(
        self,
        record_or_message: InteractionRecord | Mapping[str, Any] | int,
        custom_id: str,
        member: Member,
        *,
        values: list[str] | None = None,
    ) -> InteractionRecord:
        return await self.driver.click(record_or_message, custom_id, member, values=values)

    async def submit_modal(
        self, record: InteractionRecord, values: Mapping[str, str], member: Member | None = None
    ) -> InteractionRecord:
        return await self.driver.submit_modal(record, values, member)

    async def send_message(self, guild: Guild, channel: Channel, member: Member, content: str) -> JSON:
        """A user posts in a channel (MESSAGE_CREATE; content hidden without the MESSAGE_CONTENT intent)."""
        return self.state.create_message(channel, member.user, {"content": content}).payload

    # -- gateway hooks ----------------------------------------------------------------------------

    async def drop_connection(self, code: int = 4000, *, abrupt: bool = False) -> int:
        """Cut the bot's gateway socket(s) with a resumable close; the client should RESUME."""
        return await self.gateway.drop_connection(code, abrupt=abrupt)

    def request_reconnect(self) -> None:
        self.gateway.request_reconnect()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        await self.gateway.invalidate_sessions(resumable=resumable)

    async def wait_for_gateway(
        self, predicate: Callable[[GatewayEvent], bool], timeout: float = 5.0, *, include_past: bool = True
    ) -> GatewayEvent:
        return await self.gateway.wait_for_event(predicate, timeout, include_past=include_past)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: JSON | None = None,
        *,
        times: int = 1,
        retry_after: float = 0.2,
    ) -> Fault:
        """Answer the next ``times`` matching REST requests with ``status`` (429s carry retry headers)."""
        return self.rest.add_fault(method, path_regex, status, body, times=times, retry_after=retry_after)
