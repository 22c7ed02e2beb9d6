"""A guild (server): its roles, channels, members and voice states, and the permissions they give."""

from __future__ import annotations

from dataclasses import dataclass, field

from discord_emulator import permissions as perms
from discord_emulator.models import GUILD_TEXT, GUILD_VOICE, JSON, Channel, Member, Role, VoiceState
from discord_emulator.snowflake import iso_timestamp, snowflake_time


@dataclass
class Guild:
    """A guild (server) with its roles, channels, members and voice states."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    #: Members' current presences (PRESENCE_UPDATE payloads) by user id; members not in it are offline.
    presences: dict[int, JSON] = field(default_factory=dict)
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == GUILD_TEXT]

    @property
    def voice_channels(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.type == GUILD_VOICE]

    def member_named(self, username: str) -> Member:
        """Find a member by username (handy in tests and the demo)."""
        for member in self.members.values():
            if member.user.username == username:
                return member
        raise KeyError(f"no member named {username!r} in guild {self.name!r}")

    def channel_named(self, name: str) -> Channel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def base_permissions(self, member: Member) -> int:
        return perms.base_permissions(
            is_owner=member.id == self.owner_id,
            everyone=self.everyone.permissions,
            role_permissions=(self.roles[r].permissions for r in member.roles if r in self.roles),
        )

    def permissions_in(self, member: Member, channel: Channel | None) -> int:
        base = self.base_permissions(member)
        if channel is None:
            return base
        return perms.channel_permissions(
            base,
            guild_id=self.id,
            member_id=member.id,
            member_role_ids=member.roles,
            overwrites=channel.permission_overwrites,
        )

    def to_payload(self, *, voice_states: bool = True, presences: bool = False) -> JSON:
        """The full GUILD_CREATE payload; ``member_count == len(members)`` so discord.py sees it chunked.
        `presences`: include members' presences (only for a session with GUILD_PRESENCES)."""
        created = snowflake_time(self.id)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "mfa_level": 0,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "system_channel_id": str(self.text_channels[0].id) if self.text_channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "application_id": None,
            "incidents_data": None,
            "hub_type": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "inventory_settings": None,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "soundboard_sounds": [],
            # GUILD_CREATE-only fields.
            "joined_at": iso_timestamp(created),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "members": [m.to_payload() for m in self.members.values()],
            "channels": [c.to_payload(include_guild_id=False) for c in self.channels.values()],
            "threads": [],
            "presences": list(self.presences.values()) if presences else [],
            "voice_states": (
                [v.to_payload(include_guild_id=False) for v in self.voice_states.values()] if voice_states else []
            ),
            "stage_instances": [],
            "guild_scheduled_events": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
        }

    def to_rest_payload(self) -> JSON:
        """GET /guilds/{id}: the guild without the GUILD_CREATE-only lists."""
        payload = self.to_payload()
        for key in (
            "joined_at",
            "large",
            "unavailable",
            "lazy",
            "member_count",
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "stage_instances",
            "guild_scheduled_events",
            "embedded_activities",
            "activity_instances",
            "application_command_counts",
        ):
            payload.pop(key, None)
        return payload
