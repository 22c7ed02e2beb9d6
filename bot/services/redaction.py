"""Naming a member in the bot's log without naming them: a short salted hash of their Discord id.

A log line that joined a Discord id to a Last.fm username (or to what the member likes) would outlive
/forget-me in every log file and log collector. The salt is drawn once per process and never stored,
so a reference ties together the lines of one run and cannot be turned back into an id, not even by
hashing every plausible id.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

_SALT: Final = secrets.token_bytes(16)
_HEX_DIGITS: Final = 8


def member_ref(user_id: int) -> str:
    """``member-1a2b3c4d``: the same for one member throughout this process, meaningless outside it."""
    digest = hashlib.blake2b(str(int(user_id)).encode(), key=_SALT, digest_size=_HEX_DIGITS // 2)
    return f"member-{digest.hexdigest()}"
