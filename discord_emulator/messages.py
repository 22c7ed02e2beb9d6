"""The message store: messages built from create/edit bodies as Discord stores them, and their events.

Changes to messages others can see are announced (MESSAGE_CREATE, MESSAGE_UPDATE, MESSAGE_DELETE) through the
``emit`` callback; ephemeral messages exist only for the interaction that made them and are never announced.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from discord_emulator.guild import Guild
from discord_emulator.models import JSON, Channel, User
from discord_emulator.snowflake import SnowflakeGenerator, iso_timestamp, snowflake_time

# Message flags the emulator interprets.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15
#: Flags a bot may set when sending or editing; Discord silently drops the others.
SETTABLE_MESSAGE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2

_MENTION = re.compile(r"<@!?(\d{15,21})>")

#: Called with (event name, payload, guild id or None) for a change the gateway should announce.
Emit = Callable[[str, JSON, int | None], None]


@dataclass
class StoredMessage:
    """A message plus what the payload does not carry (attachment bytes, deletion)."""

    payload: JSON
    files: dict[int, bytes] = field(default_factory=dict)
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])


class MessageStore(dict[int, StoredMessage]):
    """Every message by id (deleted ones are kept, flagged, so late lookups can tell "deleted" from "unknown")."""

    def __init__(
        self,
        *,
        snowflakes: SnowflakeGenerator,
        users: dict[int, User],
        guilds: dict[int, Guild],
        application_id: int,
        emit: Emit,
    ) -> None:
        super().__init__()
        self._snowflakes = snowflakes
        self._users = users
        self._guilds = guilds
        self._application_id = application_id
        self._emit = emit

    def create(
        self,
        channel: Channel,
        author: User,
        body: JSON,
        *,
        message_type: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: JSON | None = None,
        attachments: list[JSON] | None = None,
        files: dict[int, bytes] | None = None,
        extra_flags: int = 0,
    ) -> StoredMessage:
        """Store a message built from a create-message body (content, embeds, components, flags...)."""
        guild = self._guilds.get(channel.guild_id)
        message_id = self._snowflakes.next()
        flags = (int(body.get("flags") or 0) & SETTABLE_MESSAGE_FLAGS) | extra_flags
        payload: JSON = {
            "id": str(message_id),
            "type": message_type,
            "channel_id": str(channel.id),
            "author": author.to_payload(),
            "content": body.get("content") or "",
            "timestamp": iso_timestamp(snowflake_time(message_id)),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": _normalise_embeds(body.get("embeds") or []),
            "reactions": [],
            "pinned": False,
            "flags": flags,
            "components": _number_components(body.get("components") or []),
            "nonce": body.get("nonce"),
        }
        if body.get("poll"):
            payload["poll"] = body["poll"]
        if webhook_id is not None:
            payload["webhook_id"] = str(webhook_id)
            payload["application_id"] = str(self._application_id)
        if interaction_metadata is not None:
            payload["interaction_metadata"] = interaction_metadata
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(author.id)
            if member is not None:
                payload["member"] = member.to_payload(include_user=False)
        reference = body.get("message_reference")
        if reference and reference.get("message_id"):
            referenced = self.get(int(reference["message_id"]))
            payload["type"] = 19  # REPLY
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(channel.id),
                "guild_id": str(channel.guild_id),
            }
            payload["referenced_message"] = copy.deepcopy(referenced.payload) if referenced else None
        self._fill_mentions(payload)
        stored = StoredMessage(payload=payload, files=dict(files or {}))
        self[message_id] = stored
        if not flags & FLAG_EPHEMERAL:
            channel.last_message_id = message_id
            self._emit("MESSAGE_CREATE", copy.deepcopy(payload), channel.guild_id)
        return stored

    def edit(
        self,
        stored: StoredMessage,
        body: JSON,
        *,
        new_attachments: list[JSON] | None = None,
        files: dict[int, bytes] | None = None,
    ) -> StoredMessage:
        """Apply an edit body: only the keys present change, like Discord's PATCH semantics."""
        payload = stored.payload
        if "content" in body:
            payload["content"] = body["content"] or ""
        if "embeds" in body:
            payload["embeds"] = _normalise_embeds(body["embeds"] or [])
        if "components" in body:
            payload["components"] = _number_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            # Ephemeral-ness can't change after creation; the other settable flags can.
            keep = payload["flags"] & ~(SETTABLE_MESSAGE_FLAGS & ~FLAG_EPHEMERAL)
            payload["flags"] = keep | (int(body["flags"]) & SETTABLE_MESSAGE_FLAGS & ~FLAG_EPHEMERAL)
        if "poll" in body:
            payload["poll"] = body["poll"]
        if "attachments" in body or new_attachments:
            kept_ids = {
                str(a.get("id"))
                for a in (body.get("attachments") or [])
                if isinstance(a, dict) and a.get("id") is not None
            }
            kept = (
                [a for a in payload["attachments"] if a["id"] in kept_ids]
                if "attachments" in body
                else list(payload["attachments"])
            )
            payload["attachments"] = kept + (new_attachments or [])
            stored.files = {k: v for k, v in stored.files.items() if str(k) in {a["id"] for a in kept}}
            stored.files.update(files or {})
        # A deferred "thinking" message stops loading once it is edited.
        payload["flags"] &= ~FLAG_LOADING
        payload["edited_timestamp"] = iso_timestamp()
        self._fill_mentions(payload)
        if not payload["flags"] & FLAG_EPHEMERAL:
            guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
            self._emit("MESSAGE_UPDATE", copy.deepcopy(payload), guild_id)
        return stored

    def delete(self, stored: StoredMessage) -> None:
        stored.deleted = True
        payload = stored.payload
        if not payload["flags"] & FLAG_EPHEMERAL:
            event: JSON = {"id": payload["id"], "channel_id": payload["channel_id"]}
            if payload.get("guild_id"):
                event["guild_id"] = payload["guild_id"]
            self._emit("MESSAGE_DELETE", event, int(payload["guild_id"]) if payload.get("guild_id") else None)

    def live(self, message_id: int) -> StoredMessage | None:
        stored = self.get(message_id)
        return None if stored is None or stored.deleted else stored

    def in_channel(self, channel_id: int) -> list[JSON]:
        """Messages in a channel, oldest first (deleted ones left out)."""
        return [m.payload for m in self.values() if not m.deleted and m.channel_id == channel_id]

    def _fill_mentions(self, payload: JSON) -> None:
        ids = {int(x) for x in _MENTION.findall(payload.get("content") or "")}
        payload["mentions"] = [self._users[i].to_payload() for i in sorted(ids) if i in self._users]
        payload["mention_everyone"] = "@everyone" in (payload.get("content") or "")


def _normalise_embeds(embeds: list[JSON]) -> list[JSON]:
    """Discord stores embeds with ``type: rich`` and echoes them back with it."""
    out = []
    for embed in embeds:
        embed = copy.deepcopy(embed)
        embed.setdefault("type", "rich")
        embed.setdefault("content_scan_version", 0)
        out.append(embed)
    return out


def _number_components(components: list[JSON]) -> list[JSON]:
    """Discord assigns each component a numeric ``id`` (depth first, from 1) when the bot sent none."""
    result = copy.deepcopy(components)
    counter = 0

    def visit(items: list[JSON]) -> None:
        nonlocal counter
        for item in items:
            counter += 1
            if not item.get("id"):
                item["id"] = counter
            visit(item.get("components") or [])
            if isinstance(item.get("accessory"), dict):
                counter += 1
                item["accessory"].setdefault("id", counter)

    visit(result)
    return result
