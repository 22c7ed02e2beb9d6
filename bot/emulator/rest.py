"""The emulated REST API under /api/v10: the routes discord.py and the bot use, plus a recording 404.

Every request is appended to ``requests`` (method, path, query, a subset of headers, the JSON body or a
multipart's ``payload_json``) before it is answered, so tests can see exactly what the client sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from bot.emulator import limits
from bot.emulator import permissions as perms
from bot.emulator.records import (
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    KEPT_HEADERS,
    MODAL,
    PONG,
    UPDATE_MESSAGE,
    CallbackRecord,
    InteractionRecord,
    InteractionRegistry,
    RecordedRequest,
    WebhookAction,
)
from bot.emulator.state import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    JSON,
    Channel,
    EmulatorState,
    Guild,
    StoredMessage,
)

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"

#: Which callback types each interaction type accepts (2 command, 3 component, 4 autocomplete, 5 modal submit).
_ALLOWED_CALLBACKS = {
    1: {PONG},
    2: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    3: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    4: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
    5: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE},
}


class DiscordError(Exception):
    """Raised by a handler to answer with Discord's error JSON."""

    def __init__(self, status: int, code: int, message: str, extra: JSON | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"message": message, "code": code, **(extra or {})}


def _form_error(errors: limits.FormErrors) -> DiscordError:
    body = errors.body()
    return DiscordError(400, body["code"], body["message"], {"errors": body["errors"]})


@dataclass
class Fault:
    """An injected failure: the next ``times`` requests matching answer with ``status`` and ``body``."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: JSON
    headers: dict[str, str]
    times: int


@dataclass
class ParsedRequest:
    """What a handler gets: path parameters, body, uploaded files, the record and the raw request."""

    params: dict[str, str]
    json: Any
    files: list[tuple[str, str, bytes, str]]  # (field name, filename, data, content type)
    query: dict[str, str]
    record: RecordedRequest
    request: web.Request


Handler = Callable[[ParsedRequest], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly: discord.py compares the header verbatim."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


class RestAPI:
    """Routes, auth, recording and the handlers themselves."""

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
        self.interactions = interactions
        self._token_check = token_check
        self._base_url = base_url
        self._gateway_url = gateway_url
        self._privileged = privileged_intents
        #: Seconds the bot has to answer an interaction's callback (Discord: 3); None disables the check.
        self.interaction_deadline = interaction_deadline
        self.requests: list[RecordedRequest] = []
        #: Handler crashes (the emulator's own bugs): tests assert this stays empty.
        self.internal_errors: list[str] = []
        self.faults: list[Fault] = []
        self._routes: list[tuple[str, re.Pattern[str], str, Handler, bool]] = []
        self._register_routes()

    # -- routing ----------------------------------------------------------------------------------

    def _route(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        self._routes.append((method, re.compile(regex), template, handler, auth))

    def _register_routes(self) -> None:
        r = self._route
        r("GET", "/gateway", self.get_gateway, auth=False)
        r("GET", "/gateway/bot", self.get_gateway_bot)
        r("GET", "/users/@me", self.get_me)
        r("GET", "/users/@me/guilds", self.get_my_guilds)
        r("GET", "/users/{user_id}", self.get_user)
        r("GET", "/oauth2/applications/@me", self.get_application)
        r("GET", "/applications/@me", self.get_application)
        r("GET", "/applications/{application_id}/commands", self.list_commands)
        r("PUT", "/applications/{application_id}/commands", self.put_commands)
        r("POST", "/applications/{application_id}/commands", self.post_command)
        r("GET", "/applications/{application_id}/commands/{command_id}", self.get_command)
        r("DELETE", "/applications/{application_id}/commands/{command_id}", self.delete_command)
        r("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.list_commands)
        r("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands)
        r("POST", "/applications/{application_id}/guilds/{guild_id}/commands", self.post_command)
        r("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", self.get_command)
        r("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", self.delete_command)
        r("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self.interaction_callback, auth=False)
        # Literal @original routes first so "{message_id}" does not swallow them.
        r("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", self.get_webhook_message, auth=False)
        r("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", self.edit_webhook_message, auth=False)
        r(
            "DELETE",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            self.delete_webhook_message,
            auth=False,
        )
        r("POST", "/webhooks/{webhook_id}/{webhook_token}", self.execute_webhook, auth=False)
        r("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.get_webhook_message, auth=False)
        r(
            "PATCH",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            self.edit_webhook_message,
            auth=False,
        )
        r(
            "DELETE",
            "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
            self.delete_webhook_message,
            auth=False,
        )
        r("GET", "/channels/{channel_id}", self.get_channel)
        r("GET", "/channels/{channel_id}/messages", self.list_messages)
        r("POST", "/channels/{channel_id}/messages", self.create_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        r("POST", "/channels/{channel_id}/typing", self.typing)
        r("GET", "/guilds/{guild_id}", self.get_guild)
        r("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self.get_guild_roles)
        r("GET", "/guilds/{guild_id}/members", self.list_members)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)

    @property
    def route_table(self) -> list[tuple[str, str]]:
        """(method, template) of every implemented route, for documentation and tests."""
        return [(method, template) for method, _, template, _, _ in self._routes]

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
                k: _mask(k, v) for k, v in request.headers.items() if k.title() in KEPT_HEADERS or k in KEPT_HEADERS
            },
            json=None,
            files={},
            timestamp=time.perf_counter(),
            content_type=request.content_type if request.body_exists else None,
        )
        self.requests.append(record)
        try:
            json_body, files = await _read_body(request)
        except ValueError as exc:
            record.status = 400
            return json_response({"message": f"400: Bad Request ({exc})", "code": 50109}, 400)
        record.json = json_body
        record.files = {name: filename for name, filename, _, _ in files}

        if inside:
            record.route = next((t for m, rx, t, _, _ in self._routes if m == request.method and rx.match(path)), None)
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
        if any(regex.match(path) for _, regex, _, _, _ in self._routes):
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

    # -- lookups ----------------------------------------------------------------------------------

    def _guild(self, guild_id: str) -> Guild:
        guild = self.state.guilds.get(_int(guild_id))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    def _channel(self, channel_id: str, needed: int = perms.VIEW_CHANNEL) -> tuple[Guild, Channel]:
        found = self.state.find_channel(_int(channel_id))
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
        if _int(application_id) != self.state.application.id:
            raise DiscordError(403, 50001, "Missing Access")

    def _interaction_by_token(self, webhook_id: str, token: str) -> InteractionRecord:
        record = self.interactions.by_token.get(token)
        if record is None or _int(webhook_id) != self.state.application.id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

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
        user = self.state.users.get(_int(req.params["user_id"]))
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
        source = self.state.guild_commands.get(guild_id, {}) if guild_id else self.state.global_commands
        return json_response(list(source.values()))

    async def put_commands(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        bodies = req.json
        if not isinstance(bodies, list):
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "errors": {
                        "_errors": [
                            {"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}
                        ]
                    }
                },
            )
        errors = limits.FormErrors()
        limits.check_commands(bodies, errors)
        if errors:
            raise _form_error(errors)
        return json_response(self.state.overwrite_commands(guild_id, bodies))

    async def post_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        if not isinstance(req.json, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        errors = limits.FormErrors()
        limits.check_command(req.json, errors)
        if errors:
            raise _form_error(errors)
        existed = any(c["name"] == req.json.get("name") for c in self.state.commands_for(guild_id))
        return json_response(self.state.upsert_command(guild_id, req.json), 200 if existed else 201)

    async def get_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        source = self.state.guild_commands.get(guild_id, {}) if guild_id else self.state.global_commands
        command = source.get(_int(req.params["command_id"]))
        if command is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return json_response(command)

    async def delete_command(self, req: ParsedRequest) -> web.Response:
        guild_id = self._command_scope(req)
        source = self.state.guild_commands.get(guild_id, {}) if guild_id else self.state.global_commands
        if source.pop(_int(req.params["command_id"]), None) is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return no_content()

    # -- interactions -----------------------------------------------------------------------------

    async def interaction_callback(self, req: ParsedRequest) -> web.Response:
        record = self.interactions.by_id.get(_int(req.params["interaction_id"]))
        if record is None or record.token != req.params["interaction_token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        body = req.json if isinstance(req.json, dict) else {}
        callback_type = body.get("type")
        now = time.perf_counter()
        if record.callback is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if self.interaction_deadline is not None and now - record.dispatched_at > self.interaction_deadline:
            # Discord forgets an interaction not acknowledged within 3 s; the user sees "did not respond".
            record.rejections.append(
                f"callback after {now - record.dispatched_at:.3f}s (deadline {self.interaction_deadline}s)"
            )
            record._notify()
            raise DiscordError(404, 10062, "Unknown interaction")
        if not isinstance(callback_type, int) or callback_type not in _ALLOWED_CALLBACKS.get(record.type, set()):
            errors = limits.FormErrors()
            errors.add(
                ("type",), "INTERACTION_RESPONSE_TYPE_INVALID", f"Invalid interaction response type {callback_type!r}"
            )
            raise _form_error(errors)
        data = body.get("data") if isinstance(body.get("data"), dict) else None
        guild, channel = self._interaction_channel(record)
        files = req.files
        errors = limits.FormErrors()
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE) and data is not None:
            limits.check_message(data, errors, ("data",))
        elif callback_type == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            limits.check_choices(data or {}, errors)
        elif callback_type == MODAL:
            limits.check_modal(data or {}, errors)
        if errors:
            raise _form_error(errors)
        if callback_type == CHANNEL_MESSAGE_WITH_SOURCE and limits.is_empty_message(data or {}, len(files)):
            raise DiscordError(400, 50006, "Cannot send an empty message")

        message: StoredMessage | None = None
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            body_for_message = dict(data or {})
            extra = 0
            if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
                # Only the ephemeral flag of a defer matters; the message is an empty "is thinking..." one.
                body_for_message = {"flags": (data or {}).get("flags", 0) & FLAG_EPHEMERAL}
                extra = FLAG_LOADING
            attachments, blobs = self._attachments(
                channel, body_for_message, files, ephemeral=bool(body_for_message.get("flags", 0) & FLAG_EPHEMERAL)
            )
            message = self.state.create_message(
                channel,
                self.state.bot_user,
                body_for_message,
                message_type=20 if record.type == 2 else 0,
                webhook_id=self.state.application.id,
                interaction_metadata=self._interaction_metadata(record),
                attachments=attachments,
                files=blobs,
                extra_flags=extra,
            )
            record.original_message_id = message.id
        elif callback_type == UPDATE_MESSAGE and record.original_message_id is not None:
            stored = self.state.live_message(record.original_message_id)
            if stored is None:
                raise DiscordError(404, 10008, "Unknown Message")
            new_attachments, blobs = self._attachments(
                channel, data or {}, files, ephemeral=bool(stored.payload["flags"] & FLAG_EPHEMERAL)
            )
            message = self.state.edit_message(stored, data or {}, new_attachments=new_attachments, files=blobs)
        elif callback_type == DEFERRED_UPDATE_MESSAGE and record.original_message_id is not None:
            message = self.state.live_message(record.original_message_id)

        record.callback = CallbackRecord(type=callback_type, data=data, at=now, files=[f[1] for f in files])
        record._notify()
        if req.query.get("with_response", "").lower() not in ("1", "true"):
            return no_content()
        # The "interaction callback response" discord.py reads: response_message_id keys its view store.
        interaction: JSON = {
            "id": str(record.id),
            "type": record.type,
            "activity_instance_id": None,
            "response_message_id": str(message.id) if message is not None else None,
            "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": bool(message is not None and message.payload["flags"] & FLAG_EPHEMERAL),
        }
        if message is None:
            interaction.pop("response_message_id")
        resource: JSON = {"type": callback_type}
        if message is not None and callback_type in (
            CHANNEL_MESSAGE_WITH_SOURCE,
            DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            UPDATE_MESSAGE,
        ):
            resource["message"] = message.payload
        return json_response({"interaction": interaction, "resource": resource})

    def _interaction_channel(self, record: InteractionRecord) -> tuple[Guild, Channel]:
        found = self.state.find_channel(record.channel_id or 0)
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    def _interaction_metadata(self, record: InteractionRecord) -> JSON:
        payload = record.payload
        user = (payload.get("member") or {}).get("user") or payload.get("user")
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if record.type == 2:
            metadata["name"] = payload["data"]["name"]
            metadata["command_type"] = payload["data"].get("type", 1)
        if record.type == 3 and payload.get("message"):
            metadata["interacted_message_id"] = payload["message"]["id"]
        return metadata

    def _attachments(
        self, channel: Channel, body: JSON, files: list[tuple[str, str, bytes, str]], *, ephemeral: bool
    ) -> tuple[list[JSON], dict[int, bytes]]:
        """Turn uploaded ``files[n]`` parts into attachment objects served from this emulator."""
        described = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
        out: list[JSON] = []
        blobs: dict[int, bytes] = {}
        for field_name, filename, data, content_type in files:
            index = field_name[len("files[") : -1] if field_name.startswith("files[") else field_name
            info = described.get(index, {})
            attachment_id = self.state.snowflakes.next()
            name = info.get("filename") or filename
            url = f"{self._base_url()}/attachments/{channel.id}/{attachment_id}/{name}"
            attachment: JSON = {
                "id": str(attachment_id),
                "filename": name,
                "size": len(data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type if content_type != "application/octet-stream" else _guess_type(name),
            }
            if info.get("description"):
                attachment["description"] = info["description"]
            if ephemeral:
                attachment["ephemeral"] = True
            out.append(attachment)
            blobs[attachment_id] = data
        return out, blobs

    # -- interaction webhooks ---------------------------------------------------------------------

    def _webhook_target(self, req: ParsedRequest, record: InteractionRecord) -> tuple[StoredMessage, bool]:
        raw = req.params.get("message_id")
        if raw is None:  # @original
            if record.original_message_id is None:
                raise DiscordError(404, 10008, "Unknown Message")
            stored = self.state.live_message(record.original_message_id)
            if stored is None:
                raise DiscordError(404, 10008, "Unknown Message")
            return stored, True
        message_id = _int(raw)
        if message_id != record.original_message_id and message_id not in record.followup_ids:
            raise DiscordError(404, 10008, "Unknown Message")
        stored = self.state.live_message(message_id)
        if stored is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return stored, message_id == record.original_message_id

    async def execute_webhook(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        if record.callback is None:
            # The interaction webhook exists only once the interaction is acknowledged.
            raise DiscordError(404, 10015, "Unknown Webhook")
        body = req.json if isinstance(req.json, dict) else {}
        errors = limits.FormErrors()
        limits.check_message(body, errors)
        if errors:
            raise _form_error(errors)
        if limits.is_empty_message(body, len(req.files)):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        guild, channel = self._interaction_channel(record)
        now = time.perf_counter()
        original = self.state.live_message(record.original_message_id) if record.original_message_id else None
        if (
            record.callback.type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            and original is not None
            and original.payload["flags"] & FLAG_LOADING
        ):
            # Documented compatibility rule: the first follow-up after a "thinking" defer edits that message,
            # keeping the defer's ephemeral state.
            ephemeral = bool(original.payload["flags"] & FLAG_EPHEMERAL)
            new_attachments, blobs = self._attachments(channel, body, req.files, ephemeral=ephemeral)
            edit = {
                k: v
                for k, v in body.items()
                if k in ("content", "embeds", "components", "poll", "attachments", "flags")
            }
            edit.setdefault("content", body.get("content") or "")
            stored = self.state.edit_message(original, edit, new_attachments=new_attachments, files=blobs)
            record.followup_ids.append(stored.id)
            record.actions.append(WebhookAction("followup", stored.id, body, now, original=True))
        else:
            ephemeral = bool((body.get("flags") or 0) & FLAG_EPHEMERAL)
            attachments, blobs = self._attachments(channel, body, req.files, ephemeral=ephemeral)
            stored = self.state.create_message(
                channel,
                self.state.bot_user,
                body,
                message_type=0,
                webhook_id=self.state.application.id,
                interaction_metadata=self._interaction_metadata(record),
                attachments=attachments,
                files=blobs,
            )
            record.followup_ids.append(stored.id)
            record.actions.append(WebhookAction("followup", stored.id, body, now))
        record._notify()
        if req.query.get("wait", "").lower() in ("1", "true"):
            return json_response(stored.payload)
        return no_content()

    async def get_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, _ = self._webhook_target(req, record)
        return json_response(stored.payload)

    async def edit_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, is_original = self._webhook_target(req, record)
        body = req.json if isinstance(req.json, dict) else {}
        errors = limits.FormErrors()
        limits.check_message(body, errors)
        if errors:
            raise _form_error(errors)
        guild, channel = self._interaction_channel(record)
        new_attachments, blobs = self._attachments(
            channel, body, req.files, ephemeral=bool(stored.payload["flags"] & FLAG_EPHEMERAL)
        )
        self.state.edit_message(stored, body, new_attachments=new_attachments, files=blobs)
        record.actions.append(WebhookAction("edit", stored.id, body, time.perf_counter(), original=is_original))
        record._notify()
        return json_response(stored.payload)

    async def delete_webhook_message(self, req: ParsedRequest) -> web.Response:
        record = self._interaction_by_token(req.params["webhook_id"], req.params["webhook_token"])
        stored, is_original = self._webhook_target(req, record)
        self.state.delete_message(stored)
        record.actions.append(WebhookAction("delete", stored.id, None, time.perf_counter(), original=is_original))
        record._notify()
        return no_content()

    # -- channels and messages --------------------------------------------------------------------

    async def get_channel(self, req: ParsedRequest) -> web.Response:
        _, channel = self._channel(req.params["channel_id"])
        return json_response(channel.to_payload())

    async def list_messages(self, req: ParsedRequest) -> web.Response:
        _, channel = self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        messages = [m for m in self.state.channel_messages(channel.id) if not m["flags"] & FLAG_EPHEMERAL]
        if req.query.get("before"):
            messages = [m for m in messages if int(m["id"]) < _int(req.query["before"])]
        if req.query.get("after"):
            messages = [m for m in messages if int(m["id"]) > _int(req.query["after"])]
        limit = max(1, min(100, _int(req.query.get("limit", "50"))))
        newest_first = sorted(messages, key=lambda m: int(m["id"]), reverse=True)
        return json_response(newest_first[:limit])

    async def create_message(self, req: ParsedRequest) -> web.Response:
        needed = perms.VIEW_CHANNEL | perms.SEND_MESSAGES
        if req.files:
            needed |= perms.ATTACH_FILES
        guild, channel = self._channel(req.params["channel_id"], needed)
        body = req.json if isinstance(req.json, dict) else {}
        errors = limits.FormErrors()
        limits.check_message(body, errors)
        if errors:
            raise _form_error(errors)
        if limits.is_empty_message(body, len(req.files)):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        body = {**body, "flags": (body.get("flags") or 0) & ~FLAG_EPHEMERAL}  # channel messages can't be ephemeral
        attachments, blobs = self._attachments(channel, body, req.files, ephemeral=False)
        stored = self.state.create_message(channel, self.state.bot_user, body, attachments=attachments, files=blobs)
        return json_response(stored.payload)

    def _channel_message(self, req: ParsedRequest) -> tuple[Channel, StoredMessage]:
        _, channel = self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        stored = self.state.live_message(_int(req.params["message_id"]))
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
        body = req.json if isinstance(req.json, dict) else {}
        errors = limits.FormErrors()
        limits.check_message(body, errors)
        if errors:
            raise _form_error(errors)
        new_attachments, blobs = self._attachments(channel, body, req.files, ephemeral=False)
        self.state.edit_message(stored, body, new_attachments=new_attachments, files=blobs)
        return json_response(stored.payload)

    async def delete_message(self, req: ParsedRequest) -> web.Response:
        channel, stored = self._channel_message(req)
        if stored.payload["author"]["id"] != str(self.state.bot_user.id):
            self._channel(req.params["channel_id"], perms.VIEW_CHANNEL | perms.MANAGE_MESSAGES)
        self.state.delete_message(stored)
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
        after = _int(req.query.get("after", "0"))
        limit = max(1, min(1000, _int(req.query.get("limit", "1"))))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([m.to_payload() for m in members[:limit]])

    async def get_member(self, req: ParsedRequest) -> web.Response:
        guild = self._guild(req.params["guild_id"])
        member = guild.members.get(_int(req.params["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return json_response(member.to_payload())

    # -- attachments (the "CDN") ------------------------------------------------------------------

    async def serve_attachment(self, request: web.Request) -> web.StreamResponse:
        attachment_id = _int(request.match_info["attachment_id"])
        if attachment_id in self.state.uploads:
            return web.Response(
                body=self.state.uploads[attachment_id], content_type=_guess_type(request.match_info["filename"])
            )
        for stored in self.state.messages.values():
            if attachment_id in stored.files and not stored.deleted:
                return web.Response(
                    body=stored.files[attachment_id], content_type=_guess_type(request.match_info["filename"])
                )
        return web.Response(status=404, text="Not Found")


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, str, bytes, str]]]:
    """The JSON body, or the multipart ``payload_json`` plus ``files[n]`` parts discord.py uploads."""
    if not request.body_exists:
        return None, []
    if request.content_type == "multipart/form-data":
        payload: Any = None
        files: list[tuple[str, str, bytes, str]] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise ValueError("nested multipart bodies are not supported")
            data = await part.read()
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(data.decode("utf-8"))
            elif part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append((name, part.filename, bytes(data), content_type))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type != "application/json":
        raise ValueError(f"unsupported Content-Type {request.content_type!r}")
    return json.loads(raw.decode("utf-8")), []


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {"errors": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{value}" is not snowflake.'}]}},
        ) from None


def _mask(name: str, value: str) -> str:
    """Keep the scheme of Authorization ("Bot ...") but never the secret itself."""
    if name.lower() == "authorization":
        scheme, _, token = value.partition(" ")
        return f"{scheme} ***{token[-4:]}" if token else "***"
    return value


def _guess_type(filename: str) -> str:
    lowered = filename.lower()
    for suffix, kind in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".txt", "text/plain"),
        (".json", "application/json"),
        (".csv", "text/csv"),
    ):
        if lowered.endswith(suffix):
            return kind
    return "application/octet-stream"
