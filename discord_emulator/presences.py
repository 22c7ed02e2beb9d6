"""Members' presences: the PRESENCE_UPDATE payload, and the Spotify listening activity Discord's client sets.

Discord sends PRESENCE_UPDATE (and presences in GUILD_CREATE) only to sessions that identified with the
privileged GUILD_PRESENCES intent; `gateway_protocol` filters on it. The Spotify activity has the shape
Discord gives it: type 2 (listening), ``state`` the artists joined by "; ", ``details`` the track,
``party.id`` "spotify:<user id>", ``sync_id`` the track id and flags SYNC | PLAY (48).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from discord_emulator.models import JSON

LISTENING = 2
#: ActivityFlags SYNC (1 << 4) | PLAY (1 << 5): what Discord sets on a Spotify activity.
SPOTIFY_FLAGS = 48
STATUSES = ("online", "idle", "dnd", "offline")


def spotify_activity(
    user_id: int,
    artists: Sequence[str],
    track: str,
    *,
    album: str | None = None,
    duration_seconds: int = 210,
    started_ms: int | None = None,
) -> JSON:
    """A Spotify listening activity: `artists` (at least one) playing `track`, from now on."""
    if not artists or not all(isinstance(a, str) and a.strip() for a in artists):
        raise ValueError("a Spotify activity names at least one artist")
    start = int(time.time() * 1000) if started_ms is None else started_ms
    track_id = hashlib.sha1(f"{'; '.join(artists)}\n{track}".encode()).hexdigest()[:22]
    return {
        "type": LISTENING,
        "name": "Spotify",
        "id": "spotify:1",
        "details": track,
        "state": "; ".join(artists),
        "timestamps": {"start": start, "end": start + duration_seconds * 1000},
        "assets": {"large_image": f"spotify:ab67616d0000b273{track_id}", "large_text": album or track},
        "party": {"id": f"spotify:{user_id}"},
        "sync_id": track_id,
        "session_id": hashlib.sha1(f"session:{user_id}".encode()).hexdigest()[:32],
        "flags": SPOTIFY_FLAGS,
        "created_at": start,
    }


def presence_update(guild_id: int, user_id: int, status: str, activities: Sequence[JSON]) -> JSON:
    """The PRESENCE_UPDATE dispatch (and a GUILD_CREATE ``presences`` entry, which has the same fields)."""
    if status not in STATUSES:
        raise ValueError(f"status is one of {', '.join(STATUSES)}")
    return {
        "user": {"id": str(user_id)},
        "guild_id": str(guild_id),
        "status": status,
        "activities": list(activities) if status != "offline" else [],
        "client_status": {} if status == "offline" else {"desktop": status},
    }
