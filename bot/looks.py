"""How Encore's embeds look: one colour per kind of reply, and an artist's picture where there is one.

The colours are the Okabe-Ito palette (`recommender.palette`, shared with the report's plots and the
pictures in `bot/render`), which stays distinct under the common colour-vision deficiencies. Colour
only tells kinds apart at a glance: every embed still says in words what it is.

Each `discord.Embed(...)` passes its kind's colour (``colour=looks.WHY``); an embed about one artist
also calls `thumbnail(embed, artist)`, which sets the artist's picture when it has an https one and
does nothing otherwise, so a reply never fails for want of a picture.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Final

import discord

from recommender import palette

if TYPE_CHECKING:
    from recommender.catalogue import Artist

__all__ = [
    "ACCOUNT",
    "COLOURS",
    "ERROR",
    "INFO",
    "RECOMMEND",
    "SESSION",
    "SIMILAR",
    "SOCIAL",
    "TRENDS",
    "WHY",
    "picture",
    "thumbnail",
]


def _colour(hex_code: str) -> discord.Colour:
    return discord.Colour(int(hex_code.lstrip("#"), 16))


#: /recommend, its "more" button and the first recommendations after /start.
RECOMMEND: Final = _colour(palette.BLUE)
#: /similar.
SIMILAR: Final = _colour(palette.SKY_BLUE)
#: /why: the reasoning behind one recommendation.
WHY: Final = _colour(palette.BLUISH_GREEN)
#: Members together: /blend, /taste, /neighbours, /whoknows, /genres.
SOCIAL: Final = _colour(palette.REDDISH_PURPLE)
#: What the server is listening to: /trending and the digest.
TRENDS: Final = _colour(palette.YELLOW)
#: Listening sessions: the live panel, its recap, the list of past sessions.
SESSION: Final = _colour(palette.ORANGE)
#: A member's own data: their likes, privacy, Last.fm link.
ACCOUNT: Final = _colour(palette.LIGHT_GREY)
#: About Encore itself: /help, /encore status and the server admins' listings.
INFO: Final = _colour(palette.SLATE)
#: A failure shown as an embed (most failures are plain ephemeral text, see bot/client.py).
ERROR: Final = _colour(palette.VERMILLION)

#: Every kind by name.
COLOURS: Final[dict[str, discord.Colour]] = {
    "recommend": RECOMMEND,
    "similar": SIMILAR,
    "why": WHY,
    "social": SOCIAL,
    "trends": TRENDS,
    "session": SESSION,
    "account": ACCOUNT,
    "info": INFO,
    "error": ERROR,
}

#: Discord's limit on an embed image's URL (RichEmbedThumbnail.url in its OpenAPI description).
URL_LIMIT: Final = 2048
#: The grey star Last.fm's API has answered for every artist's image since 2019: not a picture of anyone.
LASTFM_PLACEHOLDER: Final = "2a96cbd8b46e442fc41c2b86b821562f"


def picture(url: object) -> str | None:
    """`url` if Discord can show it as an embed image (absolute https, within the limit), else None."""
    if not isinstance(url, str) or not url or len(url) > URL_LIMIT or url != url.strip():
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in url):
        return None
    if LASTFM_PLACEHOLDER in parts.path:
        return None
    return url


def thumbnail(embed: discord.Embed, artist: Artist | None) -> discord.Embed:
    """Set the artist's picture as the embed's thumbnail when it has a usable one; the embed either way."""
    # getattr: whatever object a caller passes, a missing picture must never fail the reply.
    url = picture(getattr(artist, "picture_url", None))
    if url is not None:
        embed.set_thumbnail(url=url)
    return embed
