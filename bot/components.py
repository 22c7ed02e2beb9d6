"""Buttons and menus that outlive the process, and the answer to any click nothing else answers.

Encore's components are `discord.ui.DynamicItem`s: discord.py rebuilds one from its custom id on every
click, so what a click needs (the owner, a page, an artist id…) is in the custom id and the item works
after a restart. Text too long for the custom id's 100 characters goes to a `TextStash` in memory; after
a restart such an item says that its menu has expired. `ExpiringView` only shows a message's items
disabled once they time out. `answer_unclaimed` replies to every component interaction that no item or
live view took (forged, unknown, or from a view the restart forgot).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import discord

from bot.errors import UserError, as_user_error
from bot.utils import NO_MENTIONS, reply_error, reply_user_error

if TYPE_CHECKING:
    from bot.services.library import MemberLibrary

log = logging.getLogger(__name__)

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])

#: A Discord id in a custom id (snowflakes have at most 20 digits).
ID = r"\d{1,20}"
CUSTOM_ID_LIMIT = 100
SOMETHING_WENT_WRONG = "something went wrong on Encore's side; it has been logged. Please try again."
#: Where `note_whether_claimed` leaves its finding, in `Interaction.extras`.
CLAIM = "encore.claimed"


def expired_text(command: str | None = None) -> str:
    return f"this menu has expired, run {f'/{command}' if command else 'the command'} again."


class MenuError(UserError):
    """A click Encore cannot act on (a choice the menu does not offer, say); the text says what to do."""


class TextStash:
    """Text too long for a custom id, kept in memory under a short key (the newest `size` texts), one stash
    per bot (`of`): a bot started anew, in a new process or not, has none of the last one's texts.

    `pack` gives what goes in the custom id: the text itself after "=" when it fits in `room` characters,
    else "~" and a key; `unpack` gives the text back, or None once the key is gone (a restart, or older
    than the newest `size`): the menu has expired.
    """

    _of_client: ClassVar[weakref.WeakKeyDictionary[discord.Client, TextStash]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, client: discord.Client) -> TextStash:
        stash = cls._of_client.get(client)
        if stash is None:
            stash = cls._of_client[client] = cls()
        return stash

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._keys = itertools.count(1)

    def pack(self, text: str, room: int) -> str:
        if len(text) + 1 <= room:
            return f"={text}"
        key = format(next(self._keys), "x")
        self._texts[key] = text
        while len(self._texts) > self.size:
            self._texts.popitem(last=False)
        return f"~{key}"

    def unpack(self, packed: str) -> str | None:
        if packed.startswith("="):
            return packed[1:]
        return self._texts.get(packed[1:])


def library_of(interaction: discord.Interaction) -> MemberLibrary:
    """The member library of the bot that got the click (an item is rebuilt for each click, with no cog)."""
    return interaction.client.app.library  # type: ignore[attr-defined]


def room_after(prefix: str) -> int:
    """How many characters a custom id starting with `prefix` has left."""
    return CUSTOM_ID_LIMIT - len(prefix)


class OwnedItem(discord.ui.DynamicItem[ItemT], template=r"(?!)"):
    """A button or menu of one member's (`owner`, read from its custom id); others get `refusal`.

    Subclasses give their own `template` (this one matches nothing, so this class is never dispatched),
    `command` (what to run again once the menu has expired) and `run`. discord.py only logs what a dynamic
    item raises, so `callback` answers every error itself: a request Encore cannot do as a command's would
    be, anything else as a bug.
    """

    refusal: ClassVar[str] = "these controls belong to whoever ran the command."
    command: ClassVar[str | None] = None
    owner: int

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await reply_error(interaction, self.refusal)
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:
            user_error = as_user_error(error)
            if user_error is not None:
                await reply_user_error(interaction, user_error)
                return
            log.exception("the %s component %r failed", type(self).__name__, self.custom_id)
            await reply_error(interaction, SOMETHING_WENT_WRONG)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    def expired(self) -> MenuError:
        return MenuError(expired_text(self.command))


def unwrapped(item: discord.ui.Item[Any]) -> discord.ui.Item[Any]:
    """The button or select menu a dynamic item wraps (the item itself otherwise)."""
    return item.item if isinstance(item, discord.ui.DynamicItem) else item


Edit = Callable[..., Coroutine[Any, Any, Any]]


class ExpiringView(discord.ui.View):
    """The dynamic items a message offers, shown disabled once `timeout` passes (when the message can
    still be edited: an interaction's token lasts 15 minutes).

    The items work without the view, after a restart too; the view only keeps the message up to date. A
    message has one at a time: showing another on it (`show_instead`), or taking its controls away
    (`take_away`), retires the one before, so it does not disable what replaced it.
    """

    _on_message: ClassVar[dict[int, ExpiringView]] = {}

    def __init__(self, *items: discord.ui.DynamicItem[Any], timeout: float) -> None:
        super().__init__(timeout=timeout)
        for item in items:
            # A plain item beside dynamic ones would unregister them all when this view ends
            # (discord.py's ViewStore.remove_view drops the dynamic templates of a view it tracks).
            if not isinstance(item, discord.ui.DynamicItem):
                raise TypeError(f"{type(self).__name__} holds dynamic items only, not {item!r}")
            self.add_item(item)
        self._message_id: int | None = None
        self._edit: Edit | None = None
        self._client: discord.Client | None = None

    async def show(
        self,
        interaction: discord.Interaction,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        ephemeral: bool = False,
    ) -> None:
        """Answer the interaction with a new message offering this view (a follow-up if it was answered)."""
        kwargs: dict[str, Any] = {"content": content, "ephemeral": ephemeral, "allowed_mentions": NO_MENTIONS}
        if embed is not None:
            kwargs["embed"] = embed
        if interaction.response.is_done():
            message = await interaction.followup.send(view=self, wait=True, **kwargs)
            self._shown(interaction, message.id, lambda **edit: interaction.followup.edit_message(message.id, **edit))
            return
        response = await interaction.response.send_message(view=self, **kwargs)
        if response.message_id is not None:
            self._shown(interaction, response.message_id, interaction.edit_original_response)

    async def show_instead(self, interaction: discord.Interaction, **edit: Any) -> None:
        """Redraw the clicked message with this view (and `edit`: content, embed…)."""
        await interaction.response.edit_message(view=self, allowed_mentions=NO_MENTIONS, **edit)
        if interaction.message is not None:
            # A component interaction's original response is the message the component is on.
            self._shown(interaction, interaction.message.id, interaction.edit_original_response)

    @classmethod
    async def take_away(cls, interaction: discord.Interaction, **edit: Any) -> None:
        """Redraw the clicked message without controls (and with `edit`), also after a deferred update."""
        if interaction.response.is_done():
            # A component's original response is the message it is on (see `show_instead`).
            await interaction.edit_original_response(view=None, allowed_mentions=NO_MENTIONS, **edit)
        else:
            await interaction.response.edit_message(view=None, allowed_mentions=NO_MENTIONS, **edit)
        if interaction.message is not None:
            shown = cls._on_message.get(interaction.message.id)
            if shown is not None:
                shown.stop()

    def _shown(self, interaction: discord.Interaction, message_id: int, edit: Edit) -> None:
        before = self._on_message.get(message_id)
        if before is not None and before is not self:
            before.stop()
        self._message_id, self._edit, self._client = message_id, edit, interaction.client
        self._on_message[message_id] = self

    def _forget(self) -> None:
        if self._message_id is not None and self._on_message.get(self._message_id) is self:
            del self._on_message[self._message_id]

    def stop(self) -> None:
        super().stop()
        self._forget()

    async def on_timeout(self) -> None:
        self._forget()
        for item in self.children:
            unwrapped(item).disabled = True  # type: ignore[attr-defined]
        if self._edit is not None and self._client is not None and not self._client.is_closed():
            with contextlib.suppress(discord.HTTPException):
                await self._edit(view=self)


# -- clicks nothing answers ------------------------------------------------------------------------


def _on_message(message: discord.Message, component_type: int, custom_id: str) -> bool:
    view_class = discord.ui.LayoutView if message.flags.components_v2 else discord.ui.View
    return any(
        item.type.value == component_type and getattr(item, "custom_id", None) == custom_id
        for item in view_class.from_message(message, timeout=None).walk_children()
    )


def note_whether_claimed(client: discord.Client, interaction: discord.Interaction) -> None:
    """Note on a component interaction whether discord.py gave it to a dynamic item or a live view, and
    the command of the Encore item whose custom id it has (None if none), for `answer_unclaimed`.

    Call it as the 'interaction' event is dispatched: `ConnectionState.parse_interaction_create` has just
    let the view store choose, and no handler has run yet (one could stop its view, leaving no trace). The
    checks mirror `ViewStore.dispatch_view`: a dynamic item only runs if the message has a component with
    that custom id; a view's item only if the view has not stopped.
    """
    if interaction.type is not discord.InteractionType.component:
        return
    try:
        interaction.extras[CLAIM] = _claim(client, interaction)
    except Exception:
        # This runs inside discord.py's gateway parsing: a surprise here (its view store changed shape,
        # say) must not stop the event; unnoted, the click is taken as claimed and left to its handler.
        log.exception("could not tell whether a click was handled")


def _claim(client: discord.Client, interaction: discord.Interaction) -> tuple[bool, str | None]:
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    custom_id, component_type = str(data.get("custom_id", "")), int(data.get("component_type", 0))
    store = client._connection._view_store
    message = interaction.message
    matching = [factory for pattern, factory in store._dynamic_items.items() if pattern.fullmatch(custom_id)]
    command = next((getattr(factory, "command", None) for factory in matching), None)
    if message is None:
        return False, command
    claimed = bool(matching) and _on_message(message, component_type, custom_id)
    for entity in (message.id, None):
        live = store._views.get(entity, {}).get((component_type, custom_id))
        claimed = claimed or (live is not None and live.view is not None and not live.view.is_finished())
    return claimed, command


async def answer_unclaimed(interaction: discord.Interaction) -> None:
    """Say that the menu has expired when no item or view took a click (it would get no reply at all)."""
    claimed, command = interaction.extras.get(CLAIM, (True, None))
    if claimed:
        return
    with contextlib.suppress(discord.HTTPException):
        await reply_error(interaction, expired_text(command))
