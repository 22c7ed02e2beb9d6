"""Small helpers the cogs share: safe text, artist links, shared reply texts, ephemeral error replies."""

from __future__ import annotations

import urllib.parse
from typing import Any

import discord

from bot.errors import UserError, as_user_error
from recommender.catalogue import Artist, ArtistCatalogue
from recommender.engine import join_names  # the cogs import it from here too
from recommender.text import clean_user_text

#: Nothing Encore sends may ping anyone, whatever text it echoes.
NO_MENTIONS = discord.AllowedMentions.none()
#: Discord's limits: message content, embed description, autocomplete choice name and value.
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
CHOICE_LIMIT = 100
#: Said when a command needs the Manage Server permission (a server may have overridden its defaults).
NEEDS_MANAGE_SERVER = "you need the Manage Server permission for that."


def safe(text: str, limit: int = 100) -> str:
    """User or catalogue text made inert: no markdown, no mentions, no invisible characters."""
    cleaned = clean_user_text(str(text))
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    cleaned = discord.utils.escape_markdown(cleaned)
    cleaned = discord.utils.escape_mentions(cleaned)
    # escape_mentions only knows 17-20 digit ids; break every <@…>, <@&…> and <#…> form.
    cleaned = cleaned.replace("<@", "<\u200b@").replace("<#", "<\u200b#")
    return cleaned or "(nothing)"


def link(artist: Artist) -> str:
    """The artist's name as a link to their Last.fm page (names in brackets are escaped)."""
    url = artist.url.replace(")", "%29").replace(" ", "%20")
    return f"[{safe(artist.name)}]({url})"


def listen_links(artist: Artist) -> str:
    """Where to hear the artist: "Last.fm · Spotify · YouTube Music" as markdown links (searches by name)."""
    url = artist.url.replace(")", "%29").replace(" ", "%20")
    spotify = "https://open.spotify.com/search/" + urllib.parse.quote(artist.name, safe="")
    youtube = "https://music.youtube.com/search?q=" + urllib.parse.quote_plus(artist.name, safe="")
    return f"[Last.fm]({url}) · [Spotify]({spotify}) · [YouTube Music]({youtube})"


#: Between an entry and where to listen to it, on the same line (one line per artist).
LISTEN_SEPARATOR = " · 🎧 "


def with_listen_links(lines: list[str], artists: list[Artist]) -> str:
    """The lines (one per artist), each with where to listen for as many from the top as fit an embed
    description: long names make the links long."""
    room = DESCRIPTION_LIMIT - len("\n".join(lines))
    out = list(lines)
    for i, artist in enumerate(artists[: len(out)]):
        extra = f"{LISTEN_SEPARATOR}{listen_links(artist)}"
        if len(extra) > room:
            break
        out[i] += extra
        room -= len(extra)
    text = "\n".join(out)
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def names_listed(artists: list[Any], listed: int, width: int) -> str:
    """The first `listed` artists' names, each made safe within `width` characters, then "N more"."""
    shown = [safe(a.name, width) for a in artists[:listed]]
    if len(artists) > listed:
        shown.append(f"{len(artists) - listed} more")
    return join_names(shown)


def liked_text(new: bool, artist_text: str) -> str:
    """The answer to a like, `artist_text` already safe (a link, or an escaped name)."""
    return f"{'Noted: you like' if new else 'You already like'} {artist_text}."


def choice_name(text: str) -> str:
    """An autocomplete choice label within Discord's 100 characters."""
    return text if len(text) <= CHOICE_LIMIT else text[: CHOICE_LIMIT - 1] + "…"


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = False,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Answer the interaction, or follow up if it was already answered (deferred, say)."""
    kwargs: dict = {"content": content, "ephemeral": ephemeral, "allowed_mentions": NO_MENTIONS}
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def reply_error(interaction: discord.Interaction, message: str) -> None:
    """Errors are only for the member who caused them, and say what to do."""
    await reply(interaction, f"⚠️ {message[:1].upper()}{message[1:]}", ephemeral=True)


def artist_choices(catalogue: ArtistCatalogue, current: str, limit: int = 25) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices from the catalogue for what the member has typed so far."""
    return [
        discord.app_commands.Choice(name=choice_name(a.name), value=a.name[:CHOICE_LIMIT])
        for a in catalogue.search(current[:CHOICE_LIMIT], limit)
    ]


async def seen_artist_choices(
    library: Any, interaction: discord.Interaction, current: str, limit: int = 25
) -> list[discord.app_commands.Choice[str]]:
    """`artist_choices` among the artists the member sees where they are (added ones only in their servers)."""
    return artist_choices(await library.catalogue_for(interaction.user.id, interaction.guild_id), current, limit)


async def artist_autocomplete(interaction: discord.Interaction, current: str) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete for an `artist` option: what the member sees where they are, for what they typed."""
    return await seen_artist_choices(interaction.client.app.library, interaction, current)


async def member_of(guild: discord.Guild, user_id: int) -> discord.Member | None:
    """The server's member with this id, from the cache or Discord; None if they left or cannot be seen."""
    member = guild.get_member(user_id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(user_id)
    except (discord.NotFound, discord.Forbidden):
        return None


async def reply_user_error(interaction: discord.Interaction, error: UserError) -> None:
    """A request Encore cannot do, told to the member who made it alone (a follow-up if already answered)."""
    await reply_error(interaction, error.reply_text(safe))


class OwnedView(discord.ui.View):
    """Controls that only the member who ran the command may use; others get `refusal`."""

    refusal = "these controls belong to whoever ran the command."

    def __init__(self, owner: int, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.owner = owner

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner:
            await reply_error(interaction, self.refusal)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        """A button or menu whose request cannot be done says so as a command would; anything else is a bug."""
        user_error = as_user_error(error)
        if user_error is not None:
            await reply_user_error(interaction, user_error)
            return
        await super().on_error(interaction, error, item)
