"""The dispatch payloads the gateway builds from the emulated world, per session, and what op 4 and op 8 change.

Discord tailors some events to the session: GUILD_CREATE leaves members out without GUILD_MEMBERS (and
presences without GUILD_PRESENCES), and message content is blanked without MESSAGE_CONTENT. These builders
are pure functions of the state.
"""

from __future__ import annotations

import copy
from typing import Any

from discord_emulator.gateway_protocol import (
    GUILD_MEMBERS,
    GUILD_PRESENCES,
    GUILD_VOICE_STATES,
    MESSAGE_CONTENT,
    GatewaySession,
)
from discord_emulator.guild import Guild
from discord_emulator.models import JSON
from discord_emulator.state import EmulatorState

_TRACE = ['["gateway-emulator",{"micros":0}]']


def ready(state: EmulatorState, session: GatewaySession, guilds: list[Guild], resume_url: str) -> JSON:
    """READY: the bot user, the (still unavailable) guilds of the session's shard, and where to RESUME."""
    payload: JSON = {
        "v": 10,
        "user": {
            **state.bot_user.to_payload(),
            "verified": True,
            "mfa_enabled": True,
            "email": None,
            "locale": "en-US",
            "flags": 0,
        },
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session.session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "application": {"id": str(state.application.id), "flags": state.application.flags},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["us-east", "us-central", "us-south", "us-west", "atlanta"],
        "user_settings": {},
        "auth": {},
        "_trace": _TRACE,
    }
    if session.shard is not None:
        payload["shard"] = list(session.shard)
    return payload


def resumed() -> JSON:
    return {"_trace": _TRACE}


def guild_create(state: EmulatorState, guild: Guild, session: GatewaySession) -> JSON:
    payload = guild.to_payload(
        voice_states=bool(session.intents & GUILD_VOICE_STATES), presences=bool(session.intents & GUILD_PRESENCES)
    )
    if not session.intents & GUILD_MEMBERS:
        # Without the privileged intent Discord only sends the bot and members in voice channels.
        keep = {str(state.bot_user.id)} | {str(uid) for uid in guild.voice_states}
        payload["members"] = [m for m in payload["members"] if m["user"]["id"] in keep]
    return payload


def redact_content(state: EmulatorState, data: JSON, session: GatewaySession) -> JSON:
    """Without MESSAGE_CONTENT, others' messages arrive empty unless they mention the bot (or are DMs)."""
    if session.intents & MESSAGE_CONTENT or not data.get("guild_id"):
        return data
    bot_id = str(state.bot_user.id)
    if data.get("author", {}).get("id") == bot_id:
        return data
    if any(m.get("id") == bot_id for m in data.get("mentions", [])):
        return data
    redacted = copy.deepcopy(data)
    redacted.update(content="", embeds=[], attachments=[], components=[])
    redacted.pop("poll", None)
    return redacted


def bot_voice_update(state: EmulatorState, data: Any) -> None:
    """The bot asked to join or leave voice (op 4): update its voice state, which announces it.

    No VOICE_SERVER_UPDATE follows: the emulator has no voice servers, so a discord.py VoiceClient
    connection attempt will time out, as it would against a Discord outage.
    """
    if not isinstance(data, dict) or not data.get("guild_id"):
        return
    guild = state.guilds.get(int(data["guild_id"]))
    if guild is None:
        return
    member = guild.members.get(state.bot_user.id)
    if member is None:
        return
    channel_id = data.get("channel_id")
    if channel_id is None:
        state.leave_voice(guild, member)
        return
    channel = guild.channels.get(int(channel_id))
    if channel is not None:
        voice = state.join_voice(guild, member, channel)
        voice.self_mute = bool(data.get("self_mute"))
        voice.self_deaf = bool(data.get("self_deaf"))


def members_chunks(state: EmulatorState, data: Any) -> list[JSON]:
    """The GUILD_MEMBERS_CHUNK answers to a REQUEST_GUILD_MEMBERS (op 8): one chunk per guild asked about."""
    if not isinstance(data, dict):
        return []
    chunks: list[JSON] = []
    guild_ids = data.get("guild_id")
    for raw_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
        guild = state.guilds.get(int(raw_id)) if raw_id else None
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
            chunk["presences"] = [guild.presences[m.id] for m in members if m.id in guild.presences]
        chunks.append(chunk)
    return chunks
