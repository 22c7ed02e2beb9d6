"""/forget-me's confirmation: "Delete all my data" or "Cancel"; it works after a restart.

The custom id holds the owner; only they may confirm (a click by anyone else is refused, whatever it
claims), and what is deleted is always the data of the member who clicked.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot.components import ID, ExpiringView, OwnedItem, library_of


class ForgetButton(OwnedItem[discord.ui.Button], template=rf"encore:forget:(?P<owner>{ID}):(?P<action>confirm|cancel)"):
    refusal = "only the member who asked can confirm this."
    command = "forget-me"
    LOOKS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "confirm": ("Delete all my data", discord.ButtonStyle.danger),
        "cancel": ("Cancel", discord.ButtonStyle.secondary),
    }

    def __init__(self, owner: int, action: str) -> None:
        self.owner, self.action = owner, action
        label, style = self.LOOKS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"encore:forget:{owner}:{action}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(int(match["owner"]), match["action"])

    async def run(self, interaction: discord.Interaction) -> None:
        if self.action == "cancel":
            await ExpiringView.take_away(interaction, content="Nothing was deleted.")
            return
        # Forgetting waits for a running refit and rewrites a snapshot: longer than Discord's 3 s to
        # respond. A deferred update keeps the answer on this message, which `take_away` then edits.
        await interaction.response.defer()
        removed = await library_of(interaction).forget(interaction.user.id)
        await ExpiringView.take_away(
            interaction,
            content=f"Done: Encore deleted your {removed.get('likes', 0)} likes, "
            f"{removed.get('not_interested', 0)} “not interested” marks and everything else it kept about you. "
            "The model has forgotten you too.",
        )


class ConfirmForget(ExpiringView):
    timeout_seconds: ClassVar[float] = 120.0

    def __init__(self, owner: int) -> None:
        super().__init__(ForgetButton(owner, "confirm"), ForgetButton(owner, "cancel"), timeout=self.timeout_seconds)


#: Registered once with the bot (`add_dynamic_items`), so they answer clicks on any message, old or new.
ITEMS = (ForgetButton,)
