"""The emulated gateway: a WebSocket speaking Discord's gateway protocol v10 (JSON encoding).

Sessions outlive connections, as on Discord: a client that loses its socket reconnects to
``resume_gateway_url`` and sends RESUME, and the emulator replays every dispatch it missed.
Frames are always sent as TEXT, even when the client asked for ``compress=zlib-stream``:
discord.py only inflates BINARY frames, so plain text is read as-is.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.emulator.records import GatewayEvent
from bot.emulator.state import JSON, EmulatorState, Guild

_log = logging.getLogger(__name__)

# Opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway).
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Close codes.
UNKNOWN_ERROR = 4000
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
INVALID_SEQ = 4007
INVALID_SHARD = 4010
INVALID_API_VERSION = 4012
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_VOICE_STATES = 1 << 7
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = {"members": GUILD_MEMBERS, "presences": GUILD_PRESENCES, "message_content": MESSAGE_CONTENT}
ALL_INTENTS = (1 << 26) - 1

#: Which intent a dispatch needs; events not listed are always sent.
_EVENT_INTENT = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "VOICE_STATE_UPDATE": GUILD_VOICE_STATES,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
}

#: How many dispatches a session keeps for RESUME.
_REPLAY_LIMIT = 10_000


@dataclass
class GatewaySession:
    """An identified session; survives its socket so a client can RESUME it."""

    session_id: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    invalidated: bool = False

    def wants(self, event: str, guild_id: int | None) -> bool:
        needed = _EVENT_INTENT.get(event)
        if event.startswith("MESSAGE_") and guild_id is None:
            needed = DIRECT_MESSAGES
        if needed is not None and not self.intents & needed:
            return False
        if guild_id is not None and self.shard is not None:
            shard_id, shard_count = self.shard
            if (guild_id >> 22) % shard_count != shard_id:
                return False
        return True


@dataclass
class GatewayConnection:
    """One WebSocket connection; frames go out in order through ``queue``."""

    number: int
    ws: web.WebSocketResponse
    request: web.Request
    path: str
    query: dict[str, str]
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    session: GatewaySession | None = None
    writer: asyncio.Task[None] | None = None
    closing: bool = False


class Gateway:
    """Accepts gateway connections and dispatches events to identified sessions."""

    def __init__(
        self,
        state: EmulatorState,
        *,
        token_check: Callable[[str], bool],
        resume_url: Callable[[], str],
        heartbeat_interval_ms: int = 41_250,
        privileged_intents: frozenset[str] = frozenset(PRIVILEGED_INTENTS),
        log: list[GatewayEvent] | None = None,
    ) -> None:
        self.state = state
        self._token_check = token_check
        self._resume_url = resume_url
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        self.log: list[GatewayEvent] = log if log is not None else []
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: dict[int, GatewayConnection] = {}
        self.identify_count = 0
        self.resume_count = 0
        #: Presence updates (op 3) the client sent, newest last.
        self.presences: list[JSON] = []
        self._numbers = itertools.count(1)
        self._log_waiters: list[tuple[Callable[[GatewayEvent], bool], asyncio.Future[GatewayEvent]]] = []

    # -- public helpers ---------------------------------------------------------------------------

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if not s.invalidated]

    @property
    def connected(self) -> bool:
        """True while at least one identified session has a socket."""
        return any(s.connection is not None for s in self.live_sessions)

    def dispatch(self, event: str, data: JSON, guild_id: int | None = None) -> int:
        """Send a DISPATCH to every session that wants it (buffered for resume). Returns how many got it."""
        delivered = 0
        for session in self.live_sessions:
            if not session.wants(event, guild_id):
                continue
            payload = data
            if event == "GUILD_CREATE" and guild_id is not None:
                guild = self.state.guilds.get(guild_id)
                if guild is None:
                    continue
                payload = self._guild_create(guild, session)
            elif event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                payload = self._redact_content(data, session)
            self._send_dispatch(session, event, payload)
            delivered += 1
        return delivered

    async def drop_connection(self, code: int = UNKNOWN_ERROR, *, abrupt: bool = False) -> int:
        """Close every live socket with a resumable close code (or abort the TCP stream, like 1006)."""
        dropped = 0
        for connection in list(self.connections.values()):
            if connection.closing:
                continue
            connection.closing = True
            dropped += 1
            if abrupt:
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await connection.ws.close(code=code, message=b"emulator dropped the connection")
        return dropped

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client should close and RESUME."""
        for session in self.live_sessions:
            if session.connection is not None:
                self._send_op(session.connection, RECONNECT, None)

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; a non-resumable one makes the client IDENTIFY afresh."""
        for session in list(self.live_sessions):
            if not resumable:
                session.invalidated = True
            if session.connection is not None:
                self._send_op(session.connection, INVALID_SESSION, resumable)

    async def close(self) -> None:
        """Close every socket (1001 going away) and stop the writers."""
        for connection in list(self.connections.values()):
            connection.closing = True
            try:
                await asyncio.wait_for(connection.ws.close(code=1001, message=b"emulator stopping"), 2)
            except (TimeoutError, ConnectionError, RuntimeError):
                pass
            await self._stop_writer(connection)

    async def wait_for_event(
        self, predicate: Callable[[GatewayEvent], bool], timeout: float = 5.0, *, include_past: bool = True
    ) -> GatewayEvent:
        """Wait for a logged gateway frame matching ``predicate``."""
        if include_past:
            for event in self.log:
                if predicate(event):
                    return event
        future: asyncio.Future[GatewayEvent] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._log_waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"no matching gateway frame within {timeout}s") from None
        finally:
            if entry in self._log_waiters:
                self._log_waiters.remove(entry)

    # -- the WebSocket handler --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=5.0, autoping=True)
        await ws.prepare(request)
        number = next(self._numbers)
        connection = GatewayConnection(
            number=number, ws=ws, request=request, path=request.path, query=dict(request.query)
        )
        self.connections[number] = connection
        connection.writer = asyncio.create_task(self._writer(connection), name=f"emulator-gateway-writer-{number}")
        try:
            version = request.query.get("v")
            if version not in ("9", "10"):
                await self._close(connection, INVALID_API_VERSION, "Invalid API version")
                return ws
            if request.query.get("encoding", "json") != "json":
                # Only JSON is emulated; ETF clients get the decode error Discord would give a bad frame.
                await self._close(connection, DECODE_ERROR, "Only encoding=json is emulated")
                return ws
            self._send_op(connection, HELLO, {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["emulator"]})
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_text(connection, message.data)
                elif message.type == WSMsgType.BINARY:
                    await self._close(connection, DECODE_ERROR, "Binary frames are not accepted")
                elif message.type == WSMsgType.ERROR:
                    break
                if ws.closed:
                    break
        except ConnectionError:
            pass  # the peer vanished; the session stays resumable
        finally:
            self.connections.pop(number, None)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
            await self._stop_writer(connection)
        return ws

    async def _on_text(self, connection: GatewayConnection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            self._record("received", None, None, None, text, connection)
            await self._close(connection, DECODE_ERROR, "Decode error")
            return
        data = frame.get("d")
        self._record("received", op, None, None, data, connection)
        if op == HEARTBEAT:
            self._send_op(connection, HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await self._identify(connection, data)
        elif op == RESUME:
            await self._resume(connection, data)
        elif connection.session is None:
            await self._close(connection, NOT_AUTHENTICATED, "Not authenticated")
        elif op == PRESENCE_UPDATE:
            self.presences.append(data)
        elif op == VOICE_STATE_UPDATE:
            self._bot_voice_update(data)
        elif op == REQUEST_GUILD_MEMBERS:
            self._members_chunk(connection.session, data)
        else:
            await self._close(connection, UNKNOWN_OPCODE, "Unknown opcode")

    async def _identify(self, connection: GatewayConnection, data: Any) -> None:
        if connection.session is not None:
            await self._close(connection, ALREADY_AUTHENTICATED, "Already authenticated")
            return
        if not isinstance(data, dict) or not self._token_check(str(data.get("token", ""))):
            await self._close(connection, AUTHENTICATION_FAILED, "Authentication failed")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents > ALL_INTENTS:
            await self._close(connection, INVALID_INTENTS, "Invalid intent(s)")
            return
        for name, bit in PRIVILEGED_INTENTS.items():
            if intents & bit and name not in self.privileged_intents:
                await self._close(connection, DISALLOWED_INTENTS, "Disallowed intent(s)")
                return
        shard: tuple[int, int] | None = None
        if data.get("shard") is not None:
            try:
                shard_id, shard_count = (int(x) for x in data["shard"])
            except (TypeError, ValueError):
                await self._close(connection, INVALID_SHARD, "Invalid shard")
                return
            if shard_count < 1 or not 0 <= shard_id < shard_count:
                await self._close(connection, INVALID_SHARD, "Invalid shard")
                return
            shard = (shard_id, shard_count)
        self.identify_count += 1
        session = GatewaySession(session_id=secrets.token_hex(16), intents=intents, shard=shard)
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        guilds = [g for g in self.state.guilds.values() if session.wants("", g.id)]
        ready = {
            "v": 10,
            "user": {
                **self.state.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": True,
                "email": None,
                "locale": "en-US",
                "flags": 0,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(self.state.application.id), "flags": self.state.application.flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central", "us-south", "us-west", "atlanta"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["gateway-emulator",{"micros":0}]'],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        self._send_dispatch(session, "READY", ready)
        # Guilds arrive after READY, one GUILD_CREATE each, as they "become available".
        if intents & GUILDS:
            for guild in guilds:
                self._send_dispatch(session, "GUILD_CREATE", self._guild_create(guild, session))

    async def _resume(self, connection: GatewayConnection, data: Any) -> None:
        if connection.session is not None:
            await self._close(connection, ALREADY_AUTHENTICATED, "Already authenticated")
            return
        if not isinstance(data, dict) or not self._token_check(str(data.get("token", ""))):
            await self._close(connection, AUTHENTICATION_FAILED, "Authentication failed")
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalidated:
            # Discord answers an unknown session with a non-resumable INVALID_SESSION.
            self._send_op(connection, INVALID_SESSION, False)
            return
        seq = data.get("seq")
        if seq is None:
            seq = 0
        if not isinstance(seq, int) or seq > session.seq:
            await self._close(connection, INVALID_SEQ, "Invalid seq")
            return
        oldest = session.buffer[0][0] if session.buffer else session.seq + 1
        if seq + 1 < oldest:
            # The events the client missed are no longer buffered: it must start a new session.
            self._send_op(connection, INVALID_SESSION, False)
            session.invalidated = True
            return
        previous = session.connection
        if previous is not None and previous is not connection:
            previous.session = None
            previous.closing = True
            asyncio.create_task(previous.ws.close(code=UNKNOWN_ERROR, message=b"session resumed elsewhere"))
        self.resume_count += 1
        session.connection = connection
        connection.session = session
        # Replay, then RESUMED; all enqueued synchronously, so no live dispatch can slip in between.
        for event_seq, frame in session.buffer:
            if event_seq > seq:
                self._enqueue(connection, frame, DISPATCH, None, event_seq, None)
        self._send_dispatch(session, "RESUMED", {"_trace": ['["gateway-emulator",{"micros":0}]']})

    # -- payload builders -------------------------------------------------------------------------

    def _guild_create(self, guild: Guild, session: GatewaySession) -> JSON:
        payload = guild.to_payload(voice_states=bool(session.intents & GUILD_VOICE_STATES))
        if not session.intents & GUILD_MEMBERS:
            # Without the privileged intent Discord only sends the bot and members in voice channels.
            keep = {str(self.state.bot_user.id)} | {str(uid) for uid in guild.voice_states}
            payload["members"] = [m for m in payload["members"] if m["user"]["id"] in keep]
        return payload

    def _redact_content(self, data: JSON, session: GatewaySession) -> JSON:
        """Without MESSAGE_CONTENT, others' messages arrive empty unless they mention the bot (or are DMs)."""
        if session.intents & MESSAGE_CONTENT or not data.get("guild_id"):
            return data
        bot_id = str(self.state.bot_user.id)
        if data.get("author", {}).get("id") == bot_id:
            return data
        if any(m.get("id") == bot_id for m in data.get("mentions", [])):
            return data
        redacted = copy.deepcopy(data)
        redacted.update(content="", embeds=[], attachments=[], components=[])
        redacted.pop("poll", None)
        return redacted

    def _bot_voice_update(self, data: Any) -> None:
        """The bot asked to join or leave voice: update its voice state and announce it.

        No VOICE_SERVER_UPDATE follows: the emulator has no voice servers, so a discord.py VoiceClient
        connection attempt will time out, as it would against a Discord outage.
        """
        if not isinstance(data, dict) or not data.get("guild_id"):
            return
        guild = self.state.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        member = guild.members.get(self.state.bot_user.id)
        if member is None:
            return
        channel_id = data.get("channel_id")
        if channel_id is None:
            self.state.leave_voice(guild, member)
            return
        channel = guild.channels.get(int(channel_id))
        if channel is not None:
            voice = self.state.join_voice(guild, member, channel)
            voice.self_mute = bool(data.get("self_mute"))
            voice.self_deaf = bool(data.get("self_deaf"))

    def _members_chunk(self, session: GatewaySession, data: Any) -> None:
        if not isinstance(data, dict):
            return
        guild_ids = data.get("guild_id")
        for raw_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self.state.guilds.get(int(raw_id)) if raw_id else None
            if guild is None:
                continue
            members = list(guild.members.values())
            if data.get("user_ids"):
                wanted = {int(x) for x in data["user_ids"]}
                members = [m for m in members if m.id in wanted]
            elif data.get("query"):
                query = str(data["query"]).lower()
                members = [m for m in members if m.user.username.lower().startswith(query)]
            limit = int(data.get("limit") or 0)
            if limit:
                members = members[:limit]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": [m.to_payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- sending ----------------------------------------------------------------------------------

    def _send_dispatch(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = json.dumps({"op": DISPATCH, "t": event, "s": session.seq, "d": data}, separators=(",", ":"))
        session.buffer.append((session.seq, frame))
        if len(session.buffer) > _REPLAY_LIMIT:
            del session.buffer[: len(session.buffer) - _REPLAY_LIMIT]
        if session.connection is not None:
            self._enqueue(session.connection, frame, DISPATCH, event, session.seq, data)
        else:
            # Nobody is listening: log it so tests can see what the client will get on RESUME.
            self._record("sent", DISPATCH, event, session.seq, data, None, session_id=session.session_id, buffered=True)

    def _send_op(self, connection: GatewayConnection, op: int, data: Any) -> None:
        frame = json.dumps({"op": op, "d": data, "s": None, "t": None}, separators=(",", ":"))
        self._enqueue(connection, frame, op, None, None, data)

    def _enqueue(
        self, connection: GatewayConnection, frame: str, op: int, event: str | None, seq: int | None, data: Any
    ) -> None:
        if event is None and op == DISPATCH:
            parsed = json.loads(frame)
            event, data = parsed["t"], parsed["d"]
        self._record("sent", op, event, seq, data, connection)
        connection.queue.put_nowait(frame)

    async def _writer(self, connection: GatewayConnection) -> None:
        while True:
            frame = await connection.queue.get()
            if frame is None:
                return
            if connection.ws.closed:
                continue
            try:
                await connection.ws.send_str(frame)
            except (ConnectionError, RuntimeError) as exc:
                _log.debug("gateway connection %s: send failed: %s", connection.number, exc)

    async def _stop_writer(self, connection: GatewayConnection) -> None:
        task = connection.writer
        if task is None or task.done():
            return
        connection.queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

    async def _close(self, connection: GatewayConnection, code: int, reason: str) -> None:
        """Flush what is queued, then close with ``code`` (the frames before it must arrive first)."""
        connection.closing = True
        self._record("sent", None, None, None, {"close_code": code, "reason": reason}, connection)
        await self._stop_writer(connection)
        await connection.ws.close(code=code, message=reason.encode())

    def _record(
        self,
        direction: str,
        op: int | None,
        event: str | None,
        seq: int | None,
        data: Any,
        connection: GatewayConnection | None,
        *,
        session_id: str | None = None,
        buffered: bool = False,
    ) -> None:
        if connection is not None and connection.session is not None:
            session_id = connection.session.session_id
        entry = GatewayEvent(
            direction=direction,  # type: ignore[arg-type]
            op=op,
            t=event,
            s=seq,
            d=data,
            session_id=session_id,
            connection=connection.number if connection is not None else 0,
            timestamp=time.perf_counter(),
            buffered=buffered,
        )
        self.log.append(entry)
        for predicate, future in list(self._log_waiters):
            if not future.done():
                try:
                    matched = predicate(entry)
                except Exception as exc:  # a broken predicate should fail the waiting test, not the gateway
                    future.set_exception(exc)
                    continue
                if matched:
                    future.set_result(entry)
