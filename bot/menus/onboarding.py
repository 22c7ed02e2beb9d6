"""/start's menus: pick music types, then artists of those types; they work after a restart.

Each custom id holds the owner and what the step needs: the artist menu and "Show others" hold the chosen
types (as positions in the type list, see bot/services/onboarding.py) and the page, and the artist menu's
values are artist ids. The service checks every click against what that state offers.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot import looks
from bot.components import ID, ExpiringView, OwnedItem, TextStash
from bot.menus.recommend import RecommendationView, describe
from bot.services.onboarding import FIRST_RECOMMENDATIONS, OnboardingService, Picked
from bot.utils import CONTENT_LIMIT, join_names, names_listed, safe
from recommender.onboarding import MAX_TYPES, OfferPage

REFUSAL = "these menus belong to whoever ran /start; run /start yourself."
CODES = r"[0-9.]{1,14}"
PAGE = r"\d{1,2}"
#: Artist names listed in a step's text before "and N more".
NAMES_LISTED = 12


def onboarding_of(interaction: discord.Interaction) -> OnboardingService:
    """The onboarding service of the bot that got the click (an item is rebuilt for each click, with no cog)."""
    return interaction.client.app.onboarding  # type: ignore[attr-defined]


def types_text() -> str:
    return (
        "👋 **Welcome to Encore!** Let's find you some music.\n"
        f"**Step 1 of 2:** pick up to {MAX_TYPES} music types you enjoy."
    )


def artists_text(types: list[str], page: OfferPage, before: str = "") -> str:
    named = join_names([f"**{safe(t, 40)}**" for t in types])
    text = (
        f"{before}**Step 2 of 2:** pick the artists you like ({named}, page {page.page + 1} of {page.pages}). "
        "Encore likes them in one go and shows your first recommendations. "
        "Nobody you know? Tap **Show others**."
    )
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "…"


def _names(artists: list[Any]) -> str:
    return names_listed(artists, NAMES_LISTED, 40)


def picked_text(picked: Picked) -> str:
    parts = []
    if picked.liked:
        parts.append(f"✅ Liked {_names(picked.liked)}.")
    if picked.already:
        parts.append(f"You already liked {_names(picked.already)}.")
    if picked.over_limit:
        parts.append(f"{picked.over_limit} left out: you reached the number of likes Encore keeps.")
    parts.append("Your first recommendations are below; pick more here any time.")
    return " ".join(parts) + "\n\n"


class TypeMenu(OwnedItem[discord.ui.Select], template=rf"encore:start:types:(?P<owner>{ID})"):
    refusal = REFUSAL
    command = "start"

    def __init__(self, owner: int, types: list[str]) -> None:
        self.owner = owner
        options = [discord.SelectOption(label=t[:100], value=t[:100]) for t in types]
        menu = discord.ui.Select(
            custom_id=f"encore:start:types:{owner}",
            placeholder="🎵 Pick up to 5 music types…",
            options=options,
            min_values=1,
            max_values=min(MAX_TYPES, len(options)),
        )
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TypeMenu:
        return cls(int(match["owner"]), onboarding_of(interaction).types())

    async def run(self, interaction: discord.Interaction) -> None:
        onboarding = onboarding_of(interaction)
        types = onboarding.chosen_types(self.item.values)
        page = onboarding.page(types, 0, self.owner)
        view = ArtistsView(self.owner, onboarding.encode(types), page)
        await view.show_instead(interaction, content=artists_text(types, page))


class ArtistPick(
    OwnedItem[discord.ui.Select], template=rf"encore:start:pick:(?P<owner>{ID}):(?P<page>{PAGE}):(?P<codes>{CODES})"
):
    """Artists of the chosen types, one page of them; choosing likes them all and recommends."""

    refusal = REFUSAL
    command = "start"

    def __init__(self, owner: int, page: int, codes: str, artists: tuple[Any, ...] = ()) -> None:
        self.owner, self.page, self.codes = owner, page, codes
        options = [discord.SelectOption(label=a.name[:100], value=str(a.artist_id)) for a in artists]
        menu = discord.ui.Select(
            custom_id=f"encore:start:pick:{owner}:{page}:{codes}",
            placeholder="🎤 Pick the artists you like…",
            # Rebuilt from a custom id, the menu only reads the values chosen: its options are not shown.
            options=options or [discord.SelectOption(label="…", value="0")],
            min_values=1,
            max_values=max(1, len(options)),
        )
        super().__init__(menu)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ArtistPick:
        # The values are checked against the page the custom id names, not against the message.
        return cls(int(match["owner"]), int(match["page"]), match["codes"])

    async def run(self, interaction: discord.Interaction) -> None:
        onboarding = onboarding_of(interaction)
        types = onboarding.decode(self.codes)
        picked = await onboarding.pick(self.owner, types, self.page, self.item.values, interaction.guild_id)
        page = onboarding.page(types, self.page)
        view = ArtistsView(self.owner, self.codes, page)
        await view.show_instead(interaction, content=artists_text(types, page, picked_text(picked)))
        found = picked.recommendations
        liked_here = None
        if interaction.guild_id is not None:
            ids = [r.artist.artist_id for r in found]
            social = interaction.client.app.social  # type: ignore[attr-defined]
            liked_here = await social.liked_here(interaction.guild_id, ids, asker=self.owner)
        embed = discord.Embed(
            title="Your first recommendations",
            description=describe(found, liked_here=liked_here),
            colour=looks.RECOMMEND,
        )
        embed.set_footer(text="Use /why <artist> for the full reasoning, /recommend for more")
        shown = [r.artist for r in found]
        stash = TextStash.of(interaction.client)
        await RecommendationView(self.owner, shown, FIRST_RECOMMENDATIONS, None, stash).show(
            interaction, embed=embed, ephemeral=True
        )


class ShowOthers(
    OwnedItem[discord.ui.Button],
    template=rf"encore:start:others:(?P<owner>{ID}):(?P<page>{PAGE}):(?P<codes>{CODES})",
):
    """The next page of artists of the chosen types (after the last, the first again)."""

    refusal = REFUSAL
    command = "start"

    def __init__(self, owner: int, page: int, codes: str, *, disabled: bool = False) -> None:
        self.owner, self.page, self.codes = owner, page, codes
        button = discord.ui.Button(
            label="Show others",
            style=discord.ButtonStyle.primary,
            custom_id=f"encore:start:others:{owner}:{page}:{codes}",
            disabled=disabled,
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShowOthers:
        return cls(int(match["owner"]), int(match["page"]), match["codes"])

    async def run(self, interaction: discord.Interaction) -> None:
        onboarding = onboarding_of(interaction)
        types = onboarding.decode(self.codes)
        page = onboarding.page(types, self.page, self.owner)
        await ArtistsView(self.owner, self.codes, page).show_instead(interaction, content=artists_text(types, page))


class ChangeTypes(OwnedItem[discord.ui.Button], template=rf"encore:start:back:(?P<owner>{ID})"):
    """Back to the first step, to pick other types."""

    refusal = REFUSAL
    command = "start"

    def __init__(self, owner: int) -> None:
        self.owner = owner
        button = discord.ui.Button(
            label="Other music types", style=discord.ButtonStyle.secondary, custom_id=f"encore:start:back:{owner}"
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChangeTypes:
        return cls(int(match["owner"]))

    async def run(self, interaction: discord.Interaction) -> None:
        types = onboarding_of(interaction).types()
        await TypesView(self.owner, types).show_instead(interaction, content=types_text())


class TypesView(ExpiringView):
    timeout_seconds: ClassVar[float] = 600.0

    def __init__(self, owner: int, types: list[str]) -> None:
        super().__init__(TypeMenu(owner, types), timeout=self.timeout_seconds)


class ArtistsView(ExpiringView):
    timeout_seconds: ClassVar[float] = 600.0

    def __init__(self, owner: int, codes: str, page: OfferPage) -> None:
        super().__init__(
            ArtistPick(owner, page.page, codes, page.artists),
            ShowOthers(owner, (page.page + 1) % page.pages, codes, disabled=page.pages == 1),
            ChangeTypes(owner),
            timeout=self.timeout_seconds,
        )


#: Registered once with the bot (`add_dynamic_items`), so they answer clicks on any message, old or new.
ITEMS = (TypeMenu, ArtistPick, ShowOthers, ChangeTypes)
