"""/like with several names ("Radiohead, Björk, Portishead"): every name found is liked in one go, and
each name that matches no artist comes back with suggestions.

Names are matched among the artists this member sees in this server (bot/services/server_artists.py),
and the likes stop at the member's limit (`MemberLibrary.like_several`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NoMatch
from bot.services.library import (
    MAX_NAME_LENGTH,
    MAX_NAMES_AT_ONCE,
    LibraryError,
    MemberLibrary,
    match_names,
    split_names,
)
from recommender.catalogue import Artist
from recommender.text import clean_user_text

__all__ = ["ListLikes", "like_names"]


@dataclass(frozen=True)
class ListLikes:
    """What a list of names liked: the new likes, those already there, the names matching no artist, and
    how many matched artists were left out because the member reached their likes limit."""

    liked: list[Artist]
    already: list[Artist]
    unknown: list[NoMatch]
    over_limit: int = 0


async def like_names(library: MemberLibrary, user_id: int, text: str, guild_id: int | None = None) -> ListLikes:
    """Like every artist a comma-separated list names, as this member sees them here; refused, before
    anything is stored, for more than MAX_NAMES_AT_ONCE names or a name too long to be one."""
    text = clean_user_text(text)
    if len(text) > MAX_NAMES_AT_ONCE * (MAX_NAME_LENGTH + 2):
        raise LibraryError(f"list at most {MAX_NAMES_AT_ONCE} names at once")
    seen = await library.catalogue_for(user_id, guild_id)
    names = split_names(text, seen)
    if not names:
        raise LibraryError("give an artist name")
    if len(names) > MAX_NAMES_AT_ONCE:
        raise LibraryError(f"list at most {MAX_NAMES_AT_ONCE} names at once")
    if any(len(name) > MAX_NAME_LENGTH for name in names):
        raise LibraryError(f"artist names are at most {MAX_NAME_LENGTH} characters")
    artists, unknown = match_names(names, seen)
    if not artists:
        return ListLikes([], [], unknown)
    liked, already, over = await library.like_several(user_id, [a.artist_id for a in artists], guild_id)
    return ListLikes(liked, already, unknown, over)
