"""The emulated REST API under /api/v10: the routes discord.py and the bot use, plus a recording 404.

Every request is appended to ``requests`` (method, path, query, a subset of headers, the JSON body or a
multipart's ``payload_json``) before it is answered, so tests can see exactly what the client sent.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web

from discord_emulator.attachments import Attachments
from discord_emulator.models import JSON
from discord_emulator.records import KEPT_HEADERS, InteractionRegistry, RecordedRequest
from discord_emulator.rest_http import DiscordError, Handler, ParsedRequest, json_response, mask, read_body
from discord_emulator.rest_interactions import InteractionEndpoints
from discord_emulator.rest_resources import Resources
from discord_emulator.state import EmulatorState

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"


@dataclass
class Fault:
    """An injected failure: the next ``times`` requests matching answer with ``status`` and ``body``."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: JSON
    headers: dict[str, str]
    times: int


class _Route(NamedTuple):
    method: str
    regex: re.Pattern[str]
    template: str
    handler: Handler
    auth: bool


class RestAPI:
    """Routing, auth, recording and injected faults; the handlers live in ``Resources`` and ``InteractionEndpoints``."""

    def __init__(
        self,
        state: EmulatorState,
        interactions: InteractionRegistry,
        *,
        token_check: Callable[[str], bool],
        base_url: Callable[[], str],
        gateway_url: Callable[[], str],
        privileged_intents: Callable[[], frozenset[str]],
        interaction_deadline: float | None = 3.0,
    ) -> None:
        self.state = state
        self._token_check = token_check
        self.attachments = Attachments(state, base_url=base_url)
        self.resources = Resources(
            state, self.attachments, gateway_url=gateway_url, privileged_intents=privileged_intents
        )
        self.interaction_endpoints = InteractionEndpoints(
            state, interactions, self.attachments, interaction_deadline=interaction_deadline
        )
        self.requests: list[RecordedRequest] = []
        #: Handler crashes (the emulator's own bugs): tests assert this stays empty.
        self.internal_errors: list[str] = []
        self.faults: list[Fault] = []
        self._routes: list[_Route] = []
        self._register_routes()

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Recorded requests routed to a template, e.g. ``("PUT", "/applications/{application_id}/commands")``."""
        return [r for r in self.requests if r.method == method and r.route == route]

    # -- routing ----------------------------------------------------------------------------------

    def _route(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        self._routes.append(_Route(method, re.compile(regex), template, handler, auth))

    def _register_routes(self) -> None:
        r, res, hooks = self._route, self.resources, self.interaction_endpoints
        r("GET", "/gateway", res.get_gateway, auth=False)
        r("GET", "/gateway/bot", res.get_gateway_bot)
        r("GET", "/users/@me", res.get_me)
        r("GET", "/users/@me/guilds", res.get_my_guilds)
        r("GET", "/users/{user_id}", res.get_user)
        r("GET", "/oauth2/applications/@me", res.get_application)
        r("GET", "/applications/@me", res.get_application)
        for scope in ("", "/guilds/{guild_id}"):
            commands = f"/applications/{{application_id}}{scope}/commands"
            r("GET", commands, res.list_commands)
            r("PUT", commands, res.put_commands)
            r("POST", commands, res.post_command)
            r("GET", commands + "/{command_id}", res.get_command)
            r("DELETE", commands + "/{command_id}", res.delete_command)
        r("POST", "/interactions/{interaction_id}/{interaction_token}/callback", hooks.interaction_callback, auth=False)
        webhook = "/webhooks/{webhook_id}/{webhook_token}"
        r("POST", webhook, hooks.execute_webhook, auth=False)
        # Literal @original routes first so "{message_id}" does not swallow them.
        for message in ("@original", "{message_id}"):
            r("GET", f"{webhook}/messages/{message}", hooks.get_webhook_message, auth=False)
            r("PATCH", f"{webhook}/messages/{message}", hooks.edit_webhook_message, auth=False)
            r("DELETE", f"{webhook}/messages/{message}", hooks.delete_webhook_message, auth=False)
        r("GET", "/channels/{channel_id}", res.get_channel)
        r("GET", "/channels/{channel_id}/messages", res.list_messages)
        r("POST", "/channels/{channel_id}/messages", res.create_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", res.get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", res.edit_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", res.delete_message)
        r("POST", "/channels/{channel_id}/typing", res.typing)
        r("GET", "/guilds/{guild_id}", res.get_guild)
        r("GET", "/guilds/{guild_id}/channels", res.get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", res.get_guild_roles)
        r("GET", "/guilds/{guild_id}/members", res.list_members)
        r("GET", "/guilds/{guild_id}/members/{user_id}", res.get_member)

    @property
    def route_table(self) -> list[tuple[str, str]]:
        """(method, template) of every implemented route, for documentation and tests."""
        return [(route.method, route.template) for route in self._routes]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Entry point for everything under /api/v10."""
        # Anything outside /api/v10 (another API version, a typo'd base URL) is recorded and 404s.
        inside = request.path.startswith(API_PREFIX + "/")
        path = request.path[len(API_PREFIX) :] if inside else request.path
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={
                k: mask(k, v) for k, v in request.headers.items() if k.title() in KEPT_HEADERS or k in KEPT_HEADERS
            },
            json=None,
            files={},
            timestamp=time.perf_counter(),
            content_type=request.content_type if request.body_exists else None,
        )
        self.requests.append(record)
        try:
            json_body, files = await read_body(request)
        except ValueError as exc:
            record.status = 400
            return json_response({"message": f"400: Bad Request ({exc})", "code": 50109}, 400)
        record.json = json_body
        record.files = {name: filename for name, filename, _, _ in files}

        if inside:
            record.route = next(
                (r.template for r in self._routes if r.method == request.method and r.regex.match(path)), None
            )
        response: web.StreamResponse | None = self._fault_for(request.method, path)
        if response is None:
            if inside:
                response = await self._dispatch(request, path, json_body, files, record)
            else:
                response = json_response({"message": "404: Not Found", "code": 0}, 404)
        record.status = response.status
        for key, value in self._ratelimit_headers(record.route or path).items():
            response.headers.setdefault(key, value)
        return response

    async def _dispatch(
        self, request: web.Request, path: str, json_body: Any, files: list[Any], record: RecordedRequest
    ) -> web.StreamResponse:
        for method, regex, template, handler, auth in self._routes:
            match = regex.match(path)
            if match is None or method != request.method:
                continue
            record.route = template
            if auth and not self._authorized(request):
                return json_response({"message": "401: Unauthorized", "code": 0}, 401)
            parsed = ParsedRequest(
                params=match.groupdict(),
                json=json_body,
                files=files,
                query=dict(request.query),
                record=record,
                request=request,
            )
            try:
                return await handler(parsed)
            except DiscordError as exc:
                return json_response(exc.body, exc.status)
            except Exception:  # the emulator's own bug: answer 500 like Discord and keep the trace for tests
                trace = traceback.format_exc()
                self.internal_errors.append(f"{request.method} {request.path}\n{trace}")
                _log.error("emulator handler crashed on %s %s\n%s", request.method, request.path, trace)
                return json_response({"message": "500: Internal Server Error", "code": 0}, 500)
        if any(route.regex.match(path) for route in self._routes):
            return json_response({"message": "405: Method Not Allowed", "code": 0}, 405)
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bot ") and self._token_check(header[4:])

    def _fault_for(self, method: str, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method in (method, "*") and fault.pattern.search(path):
                fault.times -= 1
                return json_response(fault.body, fault.status, fault.headers)
        return None

    def add_fault(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: JSON | None = None,
        *,
        times: int = 1,
        retry_after: float = 0.2,
    ) -> Fault:
        """Make the next ``times`` matching requests fail; a 429 gets the headers discord.py retries on."""
        headers: dict[str, str] = {}
        if status == 429:
            body = body or {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            # discord.py only retries a 429 that came through Discord's proxy, which it detects by "Via".
            headers = {
                "Retry-After": str(max(1, round(retry_after))),
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "Via": "1.1 google",
            }
        fault = Fault(
            method.upper(), re.compile(path_regex), status, body or {"message": "injected", "code": 0}, headers, times
        )
        self.faults.append(fault)
        return fault

    @staticmethod
    def _ratelimit_headers(route: str) -> dict[str, str]:
        # Generous static buckets: harmless to the client, and they exercise its header parsing.
        return {
            "X-RateLimit-Bucket": hashlib.md5(route.encode()).hexdigest(),
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "Via": "1.1 google",
        }
