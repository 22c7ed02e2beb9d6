"""A listening session's panel: one message in the text channel showing the current pick, and its buttons.

The buttons are dynamic items carrying the session id (and the pick they were shown for), so they work
after a restart: everything else comes from the store. Votes arriving together are drawn in one edit
(`refresh_panel`): a redraw asked for while one is under way is folded into the next. Once the session
has ended the panel becomes its recap, with a picture of the votes uploaded by the first redraw only.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

import discord

from bot import looks
from bot.components import OwnedItem
from bot.render.session_recap import render_session_recap
from bot.services.sessions import Recap, SessionService, SessionState
from bot.utils import DESCRIPTION_LIMIT, NO_MENTIONS, join_names, link, safe

log = logging.getLogger(__name__)

PREFIX = "encore:session:"
STRATEGY_TEXT = {"average": "the group's taste together", "least-misery": "whoever likes it least (least misery)"}
END_TEXT = {
    "ended": "ended",
    "empty": "ended when the voice channel emptied",
    "idle": "ended after a while without votes",
}


def sessions_of(client: discord.Client) -> SessionService:
    return client.app.sessions  # type: ignore[attr-defined]


def names_in(guild: discord.Guild | None, user_ids: Any) -> dict[int, str]:
    """Display names for member ids (never mentions); "a member" for one the bot cannot see."""
    names = {}
    for user_id in user_ids:
        member = guild.get_member(user_id) if guild is not None else None
        names[user_id] = member.display_name if member is not None else "a member"
    return names


def who(user_ids: Any, names: dict[int, str]) -> str:
    return join_names([safe(names.get(u, "a member"), 40) for u in user_ids])


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listen_links(artist: Any) -> str:
    return " · ".join(
        (
            f"[Last.fm]({artist.url.replace(')', '%29').replace(' ', '%20')})",
            f"[Spotify](https://open.spotify.com/search/{quote(artist.name, safe='')})",
            f"[YouTube Music](https://music.youtube.com/search?q={quote_plus(artist.name)})",
        )
    )


def reason_text(state: SessionState, names: dict[int, str]) -> str:
    """ "for Alice and Bob, because they like Portishead and Massive Attack; new to all of you" """
    pick = state.pick
    suited = [u for u in (pick.for_members if pick else ()) if u in state.members] or list(state.members)
    text = f"for {who(suited, names)}"
    if state.because:
        text += f", because they like {join_names([safe(a.name, 60) for a in state.because])}"
    return f"{text[:1].upper()}{text[1:]}; new to all of you."


def panel_embed(state: SessionState, names: dict[int, str]) -> discord.Embed:
    if state.recap is not None:
        return recap_embed(state.recap, names)
    lines = []
    if state.artist is not None:
        lines += [f"**Now:** {link(state.artist)}", reason_text(state, names), f"Listen: {listen_links(state.artist)}"]
    else:
        lines.append("Encore has nothing new to propose right now.")
    voted = [u for u in state.members if u in state.votes]
    into = [u for u in voted if state.votes[u]]
    lines += [
        "",
        f"**Votes:** {len(voted)} of {len(state.members)}" + (f" (into it: {who(into, names)})" if into else ""),
        f"**In the group:** {who(state.members, names)}",
    ]
    changes = [f"{safe(names.get(u, 'a member'), 40)} {what}" for u, what in state.changes]
    if changes:
        lines.append(f"**Changes:** {'; '.join(changes)}.")
    embed = discord.Embed(title="🎧 Listening session", description=clip("\n".join(lines)), colour=looks.SESSION)
    looks.thumbnail(embed, state.artist)
    embed.set_footer(text=f"Picked for {STRATEGY_TEXT.get(state.session.strategy, state.session.strategy)}")
    return embed


def recap_embed(recap: Recap, names: dict[int, str]) -> discord.Embed:
    lines = ["**Proposed**"]
    for item in recap.proposed:
        lines.append(f"{link(item.artist)} — 👍 {item.into_it} · 👎 {item.not_for_me}")
    if not recap.proposed:
        lines.append("Nothing.")
    if recap.favourites:
        lines += ["", f"**Favourites:** {join_names([link(a) for a in recap.favourites])}"]
    liked = []
    for member in recap.new_likes:
        name = safe(names.get(member.user_id, "a member"), 40)
        if member.liked is None:
            liked.append(f"{name}: kept private")
        elif member.liked:
            liked.append(f"{name}: {join_names([safe(a.name, 60) for a in member.liked])}")
    if liked:
        lines += ["", "**New likes**", *liked]
    embed = discord.Embed(title="🎧 Listening session recap", description=clip("\n".join(lines)), colour=looks.SESSION)
    embed.set_footer(text=f"Session {END_TEXT.get(recap.session.end_reason or 'ended', 'ended')}")
    return embed


class SessionButton(
    OwnedItem[discord.ui.Button],
    template=re.compile(rf"{PREFIX}(?P<action>into|not|next|end):(?P<session>\d{{1,12}})(?::(?P<pick>\d{{1,12}}))?"),
):
    """Into it, Not for me, Next or End on a session's panel; anyone may press, the service decides."""

    command = "session start"
    LABELS: ClassVar[dict[str, tuple[str, discord.ButtonStyle]]] = {
        "into": ("Into it", discord.ButtonStyle.success),
        "not": ("Not for me", discord.ButtonStyle.secondary),
        "next": ("Next", discord.ButtonStyle.primary),
        "end": ("End", discord.ButtonStyle.danger),
    }

    def __init__(self, action: str, session_id: int, pick_id: int | None = None) -> None:
        self.action, self.session_id, self.pick_id = action, session_id, pick_id
        label, style = self.LABELS[action]
        custom_id = f"{PREFIX}{action}:{session_id}" + (f":{pick_id}" if pick_id is not None else "")
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SessionButton:
        pick = match["pick"]
        return cls(match["action"], int(match["session"]), int(pick) if pick else None)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return True

    async def run(self, interaction: discord.Interaction) -> None:
        # The answer within Discord's 3 seconds; the panel is redrawn by its own edit.
        await interaction.response.defer()
        service, user = sessions_of(interaction.client), interaction.user.id
        if self.action in ("into", "not"):
            state = await service.vote(self.session_id, user, into_it=self.action == "into", pick_id=self.pick_id)
        elif self.action == "next":
            state = await service.skip(self.session_id, user, pick_id=self.pick_id)
        else:
            state = await service.end(self.session_id, user)
        await refresh_panel(interaction.client, state.session.id)


def panel_view(state: SessionState) -> discord.ui.View | None:
    if state.ended:
        return None
    view = discord.ui.View(timeout=None)
    pick = state.pick.id if state.pick is not None else None
    for action in ("into", "not", "next"):
        view.add_item(SessionButton(action, state.session.id, pick))
    view.add_item(SessionButton("end", state.session.id))
    return view


@dataclass
class _Panel:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dirty: bool = False


_panels: weakref.WeakKeyDictionary[discord.Client, dict[int, _Panel]] = weakref.WeakKeyDictionary()
#: Sessions whose recap picture this client has uploaded, oldest first; past the cap (or after a restart)
#: the message itself is read to tell.
_pictured: weakref.WeakKeyDictionary[discord.Client, dict[int, None]] = weakref.WeakKeyDictionary()
PICTURED_KEPT = 256
PICTURE_DESCRIPTION = "The artists proposed in this listening session and the votes on each"


def picture_name(session_id: int) -> str:
    return f"session-{session_id}.png"


async def refresh_panel(client: discord.Client, session_id: int) -> None:
    """Redraw the session's panel from the store; a call during a redraw makes the redraw go once more."""
    panels = _panels.setdefault(client, {})
    panel = panels.setdefault(session_id, _Panel())
    panel.dirty = True
    if panel.lock.locked():
        return
    async with panel.lock:
        while panel.dirty:
            panel.dirty = False
            state = await sessions_of(client).state(session_id)
            await _draw(client, state)
            if state.ended:
                panels.pop(session_id, None)


async def _draw(client: discord.Client, state: SessionState) -> None:
    session = state.session
    channel = client.get_channel(session.text_channel_id)
    if session.panel_message_id is None or not isinstance(channel, discord.abc.Messageable):
        return
    names = names_in(getattr(channel, "guild", None), set(state.members) | set(_recap_members(state)))
    message = channel.get_partial_message(session.panel_message_id)  # type: ignore[attr-defined]
    embed = panel_embed(state, names)
    try:
        if state.recap is None:
            await message.edit(embed=embed, view=panel_view(state), allowed_mentions=NO_MENTIONS)
        else:
            await _draw_recap(client, channel, message, embed, state.recap)
    except discord.NotFound:
        log.info("the panel of session %d is gone", session.id)


async def _draw_recap(
    client: discord.Client, channel: Any, message: discord.PartialMessage, embed: discord.Embed, recap: Recap
) -> None:
    """The recap with its picture: uploaded by the first redraw after the end, referred to by the later ones."""
    name = picture_name(recap.session.id)
    if await _has_picture(client, message, recap.session.id):
        embed.set_image(url=f"attachment://{name}")
        await message.edit(embed=embed, view=None, allowed_mentions=NO_MENTIONS)
        return
    file = await _picture(channel, recap, name)
    if file is not None:
        picture_embed = embed.copy().set_image(url=f"attachment://{name}")
        try:
            await message.edit(embed=picture_embed, view=None, attachments=[file], allowed_mentions=NO_MENTIONS)
        except discord.NotFound:
            raise
        except discord.HTTPException as refused:  # the recap's text matters more than its picture
            log.warning("the recap picture of session %d was refused: %s", recap.session.id, refused)
        else:
            pictured = _pictured.setdefault(client, {})
            pictured[recap.session.id] = None
            while len(pictured) > PICTURED_KEPT:
                del pictured[next(iter(pictured))]
            return
    await message.edit(embed=embed, view=None, allowed_mentions=NO_MENTIONS)


async def _has_picture(client: discord.Client, message: discord.PartialMessage, session_id: int) -> bool:
    if session_id in _pictured.get(client, {}):
        return True
    cached = discord.utils.get(client.cached_messages, id=message.id)
    try:
        found = cached if cached is not None else await message.fetch()
    except discord.NotFound:
        raise
    except discord.HTTPException as refused:  # unreadable: draw it (again), the edit replaces any older one
        log.info("could not read the panel of session %d: %s", session_id, refused)
        return False
    return any(a.filename == picture_name(session_id) for a in found.attachments)


async def _picture(channel: Any, recap: Recap, name: str) -> discord.File | None:
    """The recap drawn off the event loop; None when the bot may not attach files here or drawing failed."""
    guild = getattr(channel, "guild", None)
    if guild is not None and not channel.permissions_for(guild.me).attach_files:
        return None
    try:
        png = await asyncio.to_thread(render_session_recap, recap, channel=getattr(channel, "name", "") or "")
    except Exception:  # a recap without its picture is still a recap
        log.warning("could not draw the recap picture of session %d", recap.session.id, exc_info=True)
        return None
    return discord.File(io.BytesIO(png), filename=name, description=PICTURE_DESCRIPTION)


def _recap_members(state: SessionState) -> list[int]:
    return [m.user_id for m in state.recap.new_likes] if state.recap is not None else []


#: Registered once with the bot (`add_dynamic_items`).
ITEMS = (SessionButton,)
