"""The emulated gateway: a WebSocket speaking Discord's gateway protocol v10 (JSON encoding).

Sessions outlive connections, as on Discord: a client that loses its socket reconnects to
``resume_gateway_url`` and sends RESUME, and the emulator replays every dispatch it missed.
Frames are always sent as TEXT, even when the client asked for ``compress=zlib-stream``:
discord.py only inflates BINARY frames, so plain text is read as-is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from discord_emulator import gateway_events as events
from discord_emulator.gateway_protocol import (
    ALREADY_AUTHENTICATED,
    DECODE_ERROR,
    DISPATCH,
    GUILDS,
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    IDENTIFY,
    INVALID_API_VERSION,
    INVALID_SEQ,
    INVALID_SESSION,
    NOT_AUTHENTICATED,
    PRESENCE_UPDATE,
    PRIVILEGED_INTENTS,
    RECONNECT,
    REPLAY_LIMIT,
    REQUEST_GUILD_MEMBERS,
    RESUME,
    UNKNOWN_ERROR,
    UNKNOWN_OPCODE,
    VOICE_STATE_UPDATE,
    GatewayClose,
    GatewayConnection,
    GatewaySession,
    authenticate,
    validate_identify,
)
from discord_emulator.models import JSON
from discord_emulator.records import GatewayEvent
from discord_emulator.state import EmulatorState

_log = logging.getLogger(__name__)


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
    ) -> None:
        self.state = state
        self._token_check = token_check
        self._resume_url = resume_url
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        #: Every frame sent and received, in order.
        self.log: list[GatewayEvent] = []
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
                payload = events.guild_create(self.state, guild, session)
            elif event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                payload = events.redact_content(self.state, data, session)
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
            try:
                _check_query(request)
            except GatewayClose as close:
                await self._close(connection, close.code, close.reason)
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
            await self._on_frame(connection, text)
        except GatewayClose as close:
            await self._close(connection, close.code, close.reason)

    async def _on_frame(self, connection: GatewayConnection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            self._record("received", None, None, None, text, connection)
            raise GatewayClose(DECODE_ERROR, "Decode error") from None
        data = frame.get("d")
        self._record("received", op, None, None, data, connection)
        if op == HEARTBEAT:
            self._send_op(connection, HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            self._identify(connection, data)
        elif op == RESUME:
            self._resume(connection, data)
        elif connection.session is None:
            raise GatewayClose(NOT_AUTHENTICATED, "Not authenticated")
        elif op == PRESENCE_UPDATE:
            self.presences.append(data)
        elif op == VOICE_STATE_UPDATE:
            events.bot_voice_update(self.state, data)
        elif op == REQUEST_GUILD_MEMBERS:
            for chunk in events.members_chunks(self.state, data):
                self._send_dispatch(connection.session, "GUILD_MEMBERS_CHUNK", chunk)
        else:
            raise GatewayClose(UNKNOWN_OPCODE, "Unknown opcode")

    def _identify(self, connection: GatewayConnection, data: Any) -> None:
        _require_unidentified(connection)
        identify = validate_identify(data, token_check=self._token_check, privileged_intents=self.privileged_intents)
        self.identify_count += 1
        session = GatewaySession(session_id=secrets.token_hex(16), intents=identify.intents, shard=identify.shard)
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        guilds = [g for g in self.state.guilds.values() if session.wants("", g.id)]
        self._send_dispatch(session, "READY", events.ready(self.state, session, guilds, self._resume_url()))
        # Guilds arrive after READY, one GUILD_CREATE each, as they "become available".
        if identify.intents & GUILDS:
            for guild in guilds:
                self._send_dispatch(session, "GUILD_CREATE", events.guild_create(self.state, guild, session))

    def _resume(self, connection: GatewayConnection, data: Any) -> None:
        _require_unidentified(connection)
        data = authenticate(data, self._token_check)
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalidated:
            # Discord answers an unknown session with a non-resumable INVALID_SESSION.
            self._send_op(connection, INVALID_SESSION, False)
            return
        seq = data.get("seq")
        if seq is None:
            seq = 0
        if not isinstance(seq, int) or seq > session.seq:
            raise GatewayClose(INVALID_SEQ, "Invalid seq")
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
        self._send_dispatch(session, "RESUMED", events.resumed())

    # -- sending ----------------------------------------------------------------------------------

    def _send_dispatch(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = json.dumps({"op": DISPATCH, "t": event, "s": session.seq, "d": data}, separators=(",", ":"))
        session.buffer.append((session.seq, frame))
        if len(session.buffer) > REPLAY_LIMIT:
            del session.buffer[: len(session.buffer) - REPLAY_LIMIT]
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


def _check_query(request: web.Request) -> None:
    if request.query.get("v") not in ("9", "10"):
        raise GatewayClose(INVALID_API_VERSION, "Invalid API version")
    if request.query.get("encoding", "json") != "json":
        # Only JSON is emulated; ETF clients get the decode error Discord would give a bad frame.
        raise GatewayClose(DECODE_ERROR, "Only encoding=json is emulated")


def _require_unidentified(connection: GatewayConnection) -> None:
    if connection.session is not None:
        raise GatewayClose(ALREADY_AUTHENTICATED, "Already authenticated")
