"""/like's "did you mean" buttons and /likes' page buttons; they work after a restart.

The custom ids hold the owner and what a click does: the artist to like, the name to add (packed, see
TextStash), or whose likes and which page to show. A page is drawn from the likes as they are now.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot import looks
from bot.components import ID, ExpiringView, MenuError, OwnedItem, TextStash, library_of, room_after
from bot.services.library import LikeResult
from bot.services.new_artists import CATALOGUE_AGE
from bot.utils import choice_name, join_names, liked_text, link, safe
from recommender.catalogue import Artist

PAGE_SIZE = 10
SUGGESTIONS_SHOWN = 4
#: Similar artists named in the reply to an artist placed beside them.
BESIDE_SHOWN = 3


def no_match_text(query: str, lookups_on: bool) -> str:
    """/like's answer to a name the catalogue lacks, above the "did you mean" buttons."""
    name = f"“{safe(query)}”"
    how = (
        f"the last button looks {name} up on Last.fm and adds them"
        if lookups_on
        else f"the last button adds {name} anyway, and they count in recommendations after the next refit"
    )
    return f"No artist called {name}. Did you mean one of these? {CATALOGUE_AGE}: {how}."


def added_text(result: LikeResult, tags: list[str]) -> str:
    """The answer to "Add as a new artist": where the artist came from, and whether it counts yet."""
    name = safe(result.artist.name)
    if result.lastfm == "":
        return liked_text(result.new, name)
    head = f"Added {name} as a new artist"
    if result.lastfm == "unknown":
        head += " as you wrote it (Last.fm does not know them either)"
    elif result.lastfm == "found":
        head += " from Last.fm" + (f" ({', '.join(safe(t, 40) for t in tags)})" if tags else "")
    text = f"{head} and noted that you like them. "
    if result.placed_beside:
        beside = join_names([safe(a.name, 60) for a in result.placed_beside[:BESIDE_SHOWN]])
        return text + f"Encore placed them beside {beside}, artists Last.fm finds like them, so they count now."
    if result.counts_now:
        return text + "They count in recommendations now."
    if result.lastfm == "found":
        return text + (
            "None of the artists Last.fm finds like them is in Encore's catalogue, "
            "so they count in recommendations after the next refit."
        )
    if result.lastfm == "off":
        return text + f"{CATALOGUE_AGE}; they count in recommendations after the next refit."
    return text + "They count in recommendations after the next refit."


class PickArtist(OwnedItem[discord.ui.Button], template=rf"encore:pick:(?P<owner>{ID}):(?P<artist>\d{{1,20}})"):
    """Like one of the suggested artists."""

    refusal = "these buttons belong to whoever ran the command."
    command = "like"

    def __init__(self, owner: int, artist_id: int, label: str = "…") -> None:
        self.owner, self.artist_id = owner, artist_id
        button = discord.ui.Button(
            label=label[:80], style=discord.ButtonStyle.primary, custom_id=f"encore:pick:{owner}:{artist_id}"
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PickArtist:
        return cls(int(match["owner"]), int(match["artist"]))

    async def run(self, interaction: discord.Interaction) -> None:
        library = library_of(interaction)
        if self.artist_id not in library.catalogue:
            raise MenuError("that artist is no longer in Encore's catalogue; run /like again.")
        result = await library.like_artist_id(interaction.user.id, self.artist_id, guild_id=interaction.guild_id)
        await ExpiringView.take_away(interaction, content=liked_text(result.new, safe(result.artist.name)))


class AddArtist(
    OwnedItem[discord.ui.Button],
    template=re.compile(rf"encore:add:(?P<owner>{ID}):(?P<name>[=~].*)", re.DOTALL),
):
    """Add the typed name as a new artist, and like them."""

    refusal = PickArtist.refusal
    command = "like"

    def __init__(self, owner: int, packed_name: str, label: str = "…") -> None:
        self.owner, self.packed_name = owner, packed_name
        button = discord.ui.Button(
            label=label[:80], style=discord.ButtonStyle.secondary, custom_id=f"encore:add:{owner}:{packed_name}"
        )
        super().__init__(button)

    @classmethod
    def for_name(cls, owner: int, name: str, stash: TextStash) -> AddArtist:
        packed = stash.pack(name, room_after(f"encore:add:{owner}:"))
        return cls(owner, packed, choice_name(f"Add “{name}” as a new artist"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AddArtist:
        return cls(int(match["owner"]), match["name"])

    async def run(self, interaction: discord.Interaction) -> None:
        name = TextStash.of(interaction.client).unpack(self.packed_name)
        if name is None:
            raise self.expired()
        library = library_of(interaction)
        result = await library.add_artist_and_like(interaction.user.id, name, interaction.guild_id)
        tags = library.catalogue.top_tags(result.artist.artist_id, 3)
        await ExpiringView.take_away(interaction, content=added_text(result, tags))


class DidYouMean(ExpiringView):
    """Buttons for the nearest artists, and one to add the typed name as a new artist."""

    timeout_seconds: ClassVar[float] = 300.0

    def __init__(self, owner: int, query: str, suggestions: list[Artist], stash: TextStash) -> None:
        nearest = list({a.artist_id: a for a in suggestions}.values())[:SUGGESTIONS_SHOWN]
        super().__init__(
            *(PickArtist(owner, a.artist_id, a.name) for a in nearest),
            AddArtist.for_name(owner, query, stash),
            timeout=self.timeout_seconds,
        )


class TurnPage(
    OwnedItem[discord.ui.Button],
    template=rf"encore:likes:(?P<owner>{ID}):(?P<target>{ID}):(?P<page>\d{{1,6}}):(?P<direction>prev|next)",
):
    """Show page `page` of `target`'s likes (the direction only tells the two buttons apart)."""

    refusal = "run /likes yourself to turn the pages."
    command = "likes"
    LABELS: ClassVar[dict[str, str]] = {"prev": "◀ Previous", "next": "Next ▶"}

    def __init__(self, owner: int, target: int, page: int, direction: str, *, disabled: bool = False) -> None:
        self.owner, self.target, self.page = owner, target, page
        button = discord.ui.Button(
            label=self.LABELS[direction],
            style=discord.ButtonStyle.secondary,
            custom_id=f"encore:likes:{owner}:{target}:{page}:{direction}",
            disabled=disabled,
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TurnPage:
        return cls(int(match["owner"]), int(match["target"]), int(match["page"]), match["direction"])

    async def run(self, interaction: discord.Interaction) -> None:
        library = library_of(interaction)
        if self.target != interaction.user.id and await library.privacy_of(self.target) == "private":
            raise MenuError("those likes are private now.")
        liked = await library.liked_artists(self.target)
        if not liked:
            raise MenuError("there are no likes to show any more; run /likes again.")
        message = interaction.message
        title = message.embeds[0].title if message is not None and message.embeds else None
        pages = LikesPages(self.owner, self.target, title or "Liked artists", liked, self.page)
        await pages.show_instead(interaction, embed=pages.embed())


class LikesPages(ExpiringView):
    """One page of a member's likes (newest first), and buttons to the pages before and after."""

    timeout_seconds: ClassVar[float] = 300.0

    def __init__(self, owner: int, target: int, title: str, liked: list[Artist], page: int = 0) -> None:
        self.title, self.lines = title, [f"{i}. {link(a)}" for i, a in enumerate(liked, 1)]
        self.page = max(0, min(page, self.pages - 1))
        last = self.pages - 1
        super().__init__(
            TurnPage(owner, target, max(0, self.page - 1), "prev", disabled=self.page == 0),
            TurnPage(owner, target, min(last, self.page + 1), "next", disabled=self.page >= last),
            timeout=self.timeout_seconds,
        )

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.lines) // PAGE_SIZE))

    def embed(self) -> discord.Embed:
        start = self.page * PAGE_SIZE
        body = "\n".join(self.lines[start : start + PAGE_SIZE])
        embed = discord.Embed(title=self.title, description=body, colour=looks.ACCOUNT)
        count = len(self.lines)
        embed.set_footer(text=f"Page {self.page + 1} of {self.pages} · {count} artist{'s' if count != 1 else ''}")
        return embed


#: Registered once with the bot (`add_dynamic_items`), so they answer clicks on any message, old or new.
ITEMS = (PickArtist, AddArtist, TurnPage)
