"""/recommend's controls: like or dismiss a shown artist, or see the next ones; they work after a restart.

The menus' options are the artists shown so far (their values are artist ids), so "Show more" reads what
to leave out from the message it is on; the custom ids hold the owner, the count and the genre.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot import looks
from bot.components import ID, ExpiringView, MenuError, OwnedItem, TextStash, library_of, room_after
from bot.utils import (
    join_names,
    liked_text,
    link,
    reply,
    reply_error,
    safe,
    with_listen_links,
)
from recommender.catalogue import Artist
from recommender.engine import Recommendation

SELECT_OPTIONS = 25
#: The menus offer every artist shown (Show more leaves those out), and a menu holds at most 25 options.
MAX_SHOWN = SELECT_OPTIONS
LIKE_PREFIX = "encore:like:"
REFUSAL = "these controls belong to whoever asked; run /recommend yourself."


def describe(recommendations: list[Recommendation], start: int = 1, liked_here: dict[int, int] | None = None) -> str:
    """One line per artist with its reasons and, for as many from the top as fit the embed, where to
    listen; `liked_here`: artist id -> how many other members of this server like it."""
    lines = []
    for rank, item in enumerate(recommendations, start):
        because = join_names([safe(a.name, 40) for a in item.because[:2]])
        reason = f" — because you like {because}" if because else ""
        members = (liked_here or {}).get(item.artist.artist_id, 0)
        here = f" · liked by {members} member{'s' if members != 1 else ''} here" if members else ""
        lines.append(f"**{rank}.** {link(item.artist)}{reason}{here}")
    return with_listen_links(lines, [item.artist for item in recommendations])


def offered_artists(message: discord.Message | None, catalogue: Any) -> list[Artist]:
    """The artists the message's like menu offers, in order: every artist shown so far."""
    for row in message.components if message is not None else []:
        for component in getattr(row, "children", []):
            if isinstance(component, discord.SelectMenu) and (component.custom_id or "").startswith(LIKE_PREFIX):
                ids = [int(o.value) for o in component.options if o.value.isdigit()]
                return [catalogue.get(i) for i in ids if i in catalogue]
    return []


class ArtistMenu(OwnedItem[discord.ui.Select], template=r"(?!)"):
    """A menu of the shown artists; subclasses say what choosing one does."""

    refusal = REFUSAL
    command = "recommend"
    action: ClassVar[str]
    placeholder: ClassVar[str]

    def __init__(self, owner: int, options: list[discord.SelectOption]) -> None:
        self.owner = owner
        menu = discord.ui.Select(
            custom_id=f"encore:{self.action}:{owner}", placeholder=self.placeholder, options=options
        )
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ArtistMenu:
        # `item` is the menu as the message shows it: its options are what the member could choose.
        return cls(int(match["owner"]), list(getattr(item, "options", [])))

    def chosen(self, interaction: discord.Interaction) -> Artist:
        """The artist chosen, if the menu offers them (a crafted request can send any value)."""
        values, catalogue = self.item.values, library_of(interaction).catalogue
        offered = {option.value for option in self.item.options}
        if len(values) != 1 or values[0] not in offered or not values[0].isdigit() or int(values[0]) not in catalogue:
            raise MenuError("that is not one of the artists this menu offers; run /recommend again.")
        return catalogue.get(int(values[0]))


class LikeMenu(ArtistMenu, template=rf"{LIKE_PREFIX}(?P<owner>{ID})"):
    action, placeholder = "like", "👍 Like one of these…"

    async def run(self, interaction: discord.Interaction) -> None:
        artist = self.chosen(interaction)
        result = await library_of(interaction).like_artist_id(
            interaction.user.id, artist.artist_id, guild_id=interaction.guild_id
        )
        text = f"{liked_text(result.new, link(result.artist))} Your next /recommend takes it into account."
        await reply(interaction, text, ephemeral=True)


class DismissMenu(ArtistMenu, template=rf"encore:dismiss:(?P<owner>{ID})"):
    action, placeholder = "dismiss", "🚫 Not interested in…"

    async def run(self, interaction: discord.Interaction) -> None:
        artist = self.chosen(interaction)
        await library_of(interaction).not_interested(interaction.user.id, artist.artist_id)
        await reply(interaction, f"Got it: Encore will not recommend {link(artist)} to you again.", ephemeral=True)


class ShowMore(
    OwnedItem[discord.ui.Button],
    template=re.compile(rf"encore:more:(?P<owner>{ID}):(?P<count>\d{{1,2}})(?::(?P<genre>[=~].*))?", re.DOTALL),
):
    """The next `count` artists not shown yet, of `genre` if given (packed in the custom id, see TextStash)."""

    refusal = REFUSAL
    command = "recommend"

    def __init__(self, owner: int, count: int, packed_genre: str | None, *, disabled: bool = False) -> None:
        self.owner, self.count, self.packed_genre = owner, count, packed_genre
        custom_id = f"encore:more:{owner}:{count}" + (f":{packed_genre}" if packed_genre is not None else "")
        button = discord.ui.Button(
            label="Show more", style=discord.ButtonStyle.primary, custom_id=custom_id, disabled=disabled
        )
        super().__init__(button)

    @classmethod
    def for_genre(cls, owner: int, count: int, genre: str | None, stash: TextStash, *, disabled: bool) -> ShowMore:
        packed = None if genre is None else stash.pack(genre, room_after(f"encore:more:{owner}:{count}:"))
        return cls(owner, count, packed, disabled=disabled)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShowMore:
        return cls(int(match["owner"]), int(match["count"]), match["genre"])

    async def run(self, interaction: discord.Interaction) -> None:
        genre, stash = None, TextStash.of(interaction.client)
        if self.packed_genre is not None:
            genre = stash.unpack(self.packed_genre)
            if genre is None:
                raise self.expired()
        library = library_of(interaction)
        shown = offered_artists(interaction.message, library.catalogue)
        room = MAX_SHOWN - len(shown)
        if room <= 0:
            raise MenuError(f"these menus hold {MAX_SHOWN} artists at most; run /recommend again for more.")
        extra = await library.recommend(
            self.owner,
            min(max(self.count, 1), room),
            genre=genre,
            exclude=[a.artist_id for a in shown],
            guild_id=interaction.guild_id,
        )
        if not extra:
            await reply_error(interaction, "that is all Encore has for you right now.")
            return
        view = RecommendationView(self.owner, [*shown, *(r.artist for r in extra)], self.count, genre, stash)
        embed = discord.Embed(
            title="More recommendations", description=describe(extra, len(shown) + 1), colour=looks.RECOMMEND
        )
        await view.show(interaction, embed=embed, ephemeral=True)


class RecommendationView(ExpiringView):
    """Like or dismiss any of the artists shown so far, or see the next ones."""

    timeout_seconds: ClassVar[float] = 600.0

    def __init__(self, owner: int, shown: list[Artist], count: int, genre: str | None, stash: TextStash) -> None:
        def options() -> list[discord.SelectOption]:
            return [discord.SelectOption(label=a.name[:100], value=str(a.artist_id)) for a in shown[-MAX_SHOWN:]]

        super().__init__(
            LikeMenu(owner, options()),
            DismissMenu(owner, options()),
            ShowMore.for_genre(owner, count, genre, stash, disabled=len(shown) >= MAX_SHOWN),
            timeout=self.timeout_seconds,
        )


#: Registered once with the bot (`add_dynamic_items`), so they answer clicks on any message, old or new.
ITEMS = (LikeMenu, DismissMenu, ShowMore)
