"""``DiscordEmulator``: one aiohttp server on 127.0.0.1 with the gateway, the REST API and the test hooks."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import yarl
from aiohttp import web

from discord_emulator.gateway import Gateway
from discord_emulator.gateway_protocol import PRIVILEGED_INTENTS
from discord_emulator.interactions import InteractionDriver
from discord_emulator.records import InteractionRegistry
from discord_emulator.rest import API_PREFIX, RestAPI
from discord_emulator.state import EmulatorState


def make_token(bot_id: int) -> str:
    """A token shaped like Discord's: base64(user id) . 6 chars . 38 chars."""
    head = base64.urlsafe_b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(8)[:6]}.{secrets.token_urlsafe(32)[:38]}"


class Delegate:
    """``name = Delegate("component")`` on DiscordEmulator: the component's attribute of that name, live.

    Methods come back bound to the component, so their signatures and docstrings are the component's own.
    """

    def __init__(self, component: str, attribute: str | None = None) -> None:
        self.component = component
        self.attribute = attribute

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = self.attribute or name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return getattr(getattr(instance, self.component), str(self.attribute))


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
        self.gateway = Gateway(
            self.state,
            token_check=lambda t: t == self.token,
            resume_url=lambda: self.resume_gateway_url,
            heartbeat_interval_ms=heartbeat_interval_ms,
            privileged_intents=self.privileged_intents,
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
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.rest.attachments.serve)
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

    # -- the components' own API, on the emulator ------------------------------------------------

    application_id = Delegate("state")
    add_guild = Delegate("state")
    add_member = Delegate("state")
    add_role = Delegate("state")
    add_text_channel = Delegate("state")
    add_voice_channel = Delegate("state")
    join_voice = Delegate("state")
    leave_voice = Delegate("state")
    #: ``listen(guild, member, "Artist", "Track")``: a Spotify listening presence; ``set_presence`` any other.
    listen = Delegate("state")
    set_presence = Delegate("state")
    #: ``commands(guild)``: a guild's own commands plus global ones; ``commands()``: only global ones.
    commands = Delegate("state", "commands_for")

    requests = Delegate("rest")
    requests_to = Delegate("rest")
    internal_errors = Delegate("rest")
    #: Answer the next ``times`` matching REST requests with ``status`` (429s carry retry headers).
    fail_next = Delegate("rest", "add_fault")

    gateway_events = Delegate("gateway", "log")
    identify_count = Delegate("gateway")
    resume_count = Delegate("gateway")
    drop_connection = Delegate("gateway")
    request_reconnect = Delegate("gateway")
    invalidate_session = Delegate("gateway", "invalidate_sessions")
    wait_for_gateway = Delegate("gateway", "wait_for_event")

    invoke = Delegate("driver")
    invoke_user_command = Delegate("driver")
    autocomplete = Delegate("driver")
    click = Delegate("driver")
    submit_modal = Delegate("driver")
    send_message = Delegate("driver")
