"""What the emulator records: REST requests, gateway traffic, and each interaction's answers."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from discord_emulator.messages import FLAG_EPHEMERAL, FLAG_LOADING
from discord_emulator.models import JSON

if TYPE_CHECKING:
    from discord_emulator.state import EmulatorState

# Interaction callback types (https://discord.com/developers/docs/interactions/receiving-and-responding).
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

#: Request headers worth keeping; Authorization is kept masked so tests can check it was sent.
KEPT_HEADERS = ("Authorization", "Content-Type", "User-Agent", "X-Audit-Log-Reason")


@dataclass
class RecordedRequest:
    """One REST request as the emulator received it, with the answer it gave."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    #: The JSON body, or the parsed ``payload_json`` of a multipart body; None when there was none.
    json: Any
    #: Names of the files of a multipart body (``files[0]`` -> filename).
    files: dict[str, str]
    timestamp: float
    status: int = 0
    #: The path template the emulator routed it to (None for the 404 catch-all).
    route: str | None = None
    content_type: str | None = None

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status}>"


@dataclass
class GatewayEvent:
    """One gateway frame: ``direction`` is from the emulator's point of view."""

    direction: Literal["sent", "received"]
    op: int | None
    t: str | None
    s: int | None
    d: Any
    session_id: str | None
    connection: int
    timestamp: float
    #: A dispatch queued while the session had no socket (it is sent again, logged again, on RESUME).
    buffered: bool = False


@dataclass
class CallbackRecord:
    """The interaction's initial response (POST /interactions/{id}/{token}/callback)."""

    type: int
    data: JSON | None
    at: float
    files: list[str] = field(default_factory=list)


@dataclass
class WebhookAction:
    """A later action on the interaction's webhook: a follow-up, an edit or a delete."""

    kind: Literal["followup", "edit", "delete"]
    message_id: int
    body: JSON | None
    at: float
    #: True when the action targeted @original (edits/deletes), or a follow-up replaced the loading message.
    original: bool = False


class InteractionRegistry:
    """Interactions the emulator dispatched, by id and by token (webhook routes only carry the token)."""

    def __init__(self) -> None:
        self.all: list[InteractionRecord] = []
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}

    def add(self, record: InteractionRecord) -> None:
        self.all.append(record)
        self.by_id[record.id] = record
        self.by_token[record.token] = record


class InteractionRecord:
    """Everything the bot did in answer to one interaction the emulator dispatched."""

    def __init__(self, state: EmulatorState, payload: JSON) -> None:
        self._state = state
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"]) if payload.get("channel_id") else None
        self.dispatched_at = time.perf_counter()
        self.callback: CallbackRecord | None = None
        self.actions: list[WebhookAction] = []
        #: The message @original refers to (the response, or the clicked message for components).
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        #: Why the emulator refused a callback (e.g. it came after the 3 s deadline), if it did.
        self.rejections: list[str] = []
        self._waiters: list[asyncio.Future[None]] = []
        source = payload.get("message")
        if source is not None and self.type == 3:
            self.original_message_id = int(source["id"])

    def __repr__(self) -> str:
        name = (self.payload.get("data") or {}).get("name") or (self.payload.get("data") or {}).get("custom_id")
        return f"<InteractionRecord id={self.id} type={self.type} {name!r} callback={self.callback_type}>"

    # -- facts ------------------------------------------------------------------------------------

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else self.callback.type

    @property
    def first_callback_at(self) -> float | None:
        return None if self.callback is None else self.callback.at

    @property
    def latency(self) -> float | None:
        """Seconds from dispatching the interaction to receiving its callback."""
        return None if self.callback is None else self.callback.at - self.dispatched_at

    @property
    def deferred(self) -> bool:
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE)

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices the bot returned (type 8)."""
        if self.callback is None or self.callback.type != APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            return []
        return list((self.callback.data or {}).get("choices") or [])

    @property
    def followups(self) -> list[JSON]:
        return [self._state.messages[i].payload for i in self.followup_ids if i in self._state.messages]

    @property
    def edits(self) -> list[WebhookAction]:
        return [a for a in self.actions if a.kind == "edit"]

    def original_message(self) -> JSON | None:
        """The current @original message payload, or None (no response message, or deleted)."""
        if self.original_message_id is None:
            return None
        stored = self._state.messages.get(self.original_message_id)
        return None if stored is None or stored.deleted else stored.payload

    def messages(self) -> list[JSON]:
        """Every live message this interaction produced or updated: @original first, then follow-ups."""
        out = []
        original = self.original_message()
        if original is not None:
            out.append(original)
        for message_id in self.followup_ids:
            stored = self._state.messages.get(message_id)
            if stored is not None and not stored.deleted and message_id != self.original_message_id:
                out.append(stored.payload)
        return out

    def final_message(self) -> JSON:
        """@original after every edit (or the latest follow-up if there is no @original).

        Returns a copy with content, embeds, components, flags, attachments, id and an ``ephemeral`` bool.
        """
        message = self.original_message()
        if message is None and self.followup_ids:
            message = self.followups[-1] if self.followups else None
        if message is None:
            raise LookupError(f"{self!r} produced no message (callback {self.callback_type})")
        out = {
            key: copy.deepcopy(message.get(key))
            for key in ("id", "content", "embeds", "components", "flags", "attachments", "channel_id")
        }
        out["ephemeral"] = bool(message["flags"] & FLAG_EPHEMERAL)
        out["loading"] = bool(message["flags"] & FLAG_LOADING)
        return out

    def custom_ids(self) -> list[str]:
        """Every component custom_id on this interaction's messages."""
        found: list[str] = []
        for message in self.messages():
            found.extend(_custom_ids(message.get("components") or []))
        return found

    # -- waiting ----------------------------------------------------------------------------------

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, predicate: Callable[[InteractionRecord], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate(record)`` holds; raise TimeoutError (with what happened so far) otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting on {self!r}; actions={self.actions!r}")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass

    async def wait_for_callback(self, timeout: float = 5.0) -> CallbackRecord:
        await self.wait_until(lambda r: r.callback is not None, timeout)
        assert self.callback is not None
        return self.callback


def _custom_ids(components: list[Any]) -> list[str]:
    found = []
    for component in components:
        if component.get("custom_id"):
            found.append(component["custom_id"])
        found.extend(_custom_ids(component.get("components") or []))
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("custom_id"):
            found.append(accessory["custom_id"])
    return found


def find_component(components: list[JSON], custom_id: str) -> JSON | None:
    """The component with this custom_id anywhere in a message's component tree."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("custom_id") == custom_id:
            return accessory
        inner = find_component(component.get("components") or [], custom_id)
        if inner is not None:
            return inner
    return None


def check_click(
    message: JSON, component: JSON | None, custom_id: str, member_id: int, values: list[str] | None
) -> None:
    """What Discord's client lets a user click, and choose in a select menu."""
    if component is None:
        raise ValueError(f"no component with custom_id {custom_id!r} on message {message['id']}")
    if component.get("disabled"):
        raise ValueError(f"component {custom_id!r} is disabled: a user cannot use it")
    if component.get("type") == 2 and component.get("style") in (5, 6):
        raise ValueError(f"button {custom_id!r} is a link/premium button: clicking it sends no interaction")
    if message["flags"] & FLAG_EPHEMERAL:
        owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
        if owner is not None and owner != str(member_id):
            raise ValueError("only the user an ephemeral message was sent to can see (and click) it")
    if component["type"] != 2:
        chosen = list(values or [])
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(chosen) <= high:
            raise ValueError(f"select {custom_id!r} needs between {low} and {high} values, got {len(chosen)}")
        if component["type"] == 3:
            allowed = {o["value"] for o in component.get("options") or []}
            if not set(chosen) <= allowed:
                raise ValueError(f"values {sorted(set(chosen) - allowed)} are not options of {custom_id!r}")
    elif values:
        raise ValueError("values are only for select menus")
