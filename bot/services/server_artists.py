"""Which member-added artists each server sees, and which names may be added at all.

An artist a member adds is seen (in autocomplete, "did you mean", /similar and recommendations) only in
the servers where it was added or liked, by the members who like it, and everywhere once shown in
`EVERYWHERE_AFTER_SERVERS` servers or known to the Last.fm data (recommender.member_artists). The store's
``server_artists`` rows say where; the serving catalogue mirrors them in memory, updated at once by this
process's writes and read again from the store whenever a new snapshot is served (which also brings other
processes' additions, as the snapshot does). A server's moderators can list and remove its added artists.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Final

from bot.errors import UserError
from db.artists import Removal
from db.models import MEMBER_ARTIST_ID_BASE
from db.rows import ServerArtistRow
from db.store import Store
from recommender.catalogue import Artist
from recommender.member_artists import CatalogueView, MemberArtists
from recommender.text import clean_user_text

__all__ = ["Removed", "RemovedByModerators", "ServerArtists", "UnacceptableName", "check_new_artist_name"]

# Links and invites: a scheme, "www.", or a host ending in a TLD spam favours (Discord's invite hosts too).
_LINK: Final = re.compile(
    r"https?:|://|www\.|discord(?:app)?\.(?:gg|com|io|me)|\bdsc\.gg|"
    r"[a-z0-9-]\.(?:com|net|org|info|biz|ru|xyz|top|site|online|shop|link|click|gg|ly|tk|io)\b"
)
# "@" pings or looks like it would; "<@…>", "<#…>" are Discord's mention syntax.
_MENTION: Final = re.compile(r"@|<[@#]")
_SPAM_WORDS: Final = re.compile(
    r"\b(?:buy|viagra|cialis|cheap pills|click here|promo code|discount code|free nitro|onlyfans|whatsapp|giveaway)\b"
)
# Ten digits or more in one run (separators allowed) is a phone number, not a year range like "(1962-1966)".
_PHONE: Final = re.compile(r"(?:\+?\d[\s().-]*){10,}")
_CHARACTER_RUN: Final = re.compile(r"(\S)\1{7,}")
_WORD: Final = re.compile(r"\w+")
# "Wet Wet Wet" and "Duran Duran Duran" are bands; a word four times over is filler.
_MOST_REPEATS: Final = 3


class UnacceptableName(UserError, ValueError):
    """A name refused as a new artist: a link, an invite, a mention or obvious spam."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"“Add as a new artist” takes a band's or musician's name, and {reason}; "
            "if this really is an artist's name, write it without that"
        )


class RemovedByModerators(UserError):
    """A member asked to add again an artist this server's moderators removed."""

    def __init__(self) -> None:
        super().__init__("this server's moderators removed that artist, so it cannot be added here again")


def check_new_artist_name(name: str) -> None:
    """Refuse (`UnacceptableName`) a name for a new artist that holds a link, an invite, an @ or a mention,
    a phone number, spam words or runs of one word or character. `name` is as members typed it."""
    text = clean_user_text(name).casefold()
    if _MENTION.search(text):
        reason = "“@” and mentions are not allowed in one"
    elif _LINK.search(text):
        reason = "links and invites are not allowed in one"
    elif _PHONE.search(text):
        reason = "phone numbers are not allowed in one"
    elif _SPAM_WORDS.search(text):
        reason = "this one reads like an advert"
    elif _CHARACTER_RUN.search(text) or _repeats_a_word(text):
        reason = "this one repeats itself like spam"
    else:
        return
    raise UnacceptableName(reason)


def _repeats_a_word(text: str) -> bool:
    counts: dict[str, int] = {}
    for word in _WORD.findall(text):
        counts[word] = counts.get(word, 0) + 1
        if counts[word] > _MOST_REPEATS:
            return True
    return False


@dataclass(frozen=True)
class Removed:
    artist: Artist
    #: "hidden" here only, or "deleted" because nothing outside this server referred to it.
    removal: Removal


class ServerArtists:
    """The served catalogue as one member in one server (or a DM) may see it, and the writes that change that."""

    def __init__(self, store: Store, models: Any) -> None:
        self.store = store
        self.models = models
        self._mirrored: object = None
        self._mirrored_once = False
        self._mirroring = asyncio.Lock()

    @property
    def members(self) -> MemberArtists | None:
        """The serving catalogue's member artists; None over a bare Last.fm catalogue (no store behind it)."""
        catalogue = self.models.catalogue
        return catalogue.members if isinstance(catalogue, CatalogueView) else None

    async def view(self, user_id: int | None, guild_id: int | None) -> Any:
        """What names find for this member in this server (None: a DM): the Last.fm artists, the member
        artists seen there and those the member likes."""
        if self.members is None:
            return self.models.catalogue.visible_in(guild_id)
        await self.sync()
        own: tuple[int, ...] = ()
        # Nothing ever added: no store read on the autocomplete path.
        if user_id is not None and len(self.members):
            liked = (await self.store.likes.taste_of(user_id)).liked
            own = tuple(a for a in liked if a >= MEMBER_ARTIST_ID_BASE)
        return self.models.catalogue.visible_in(guild_id, own)

    def shown_in(self, artist_id: int, guild_id: int | None) -> None:
        """Mirror a like or an addition the store recorded in this server (`Likes.like` writes the row)."""
        members = self.members
        if members is not None and guild_id is not None:
            members.show_in(artist_id, guild_id)

    def check_addable(self, artist_id: int, guild_id: int | None) -> None:
        """`RemovedByModerators` if this server's moderators removed the artist."""
        members = self.members
        if members is not None and members.is_hidden_in(artist_id, guild_id):
            raise RemovedByModerators()

    async def show_imported(self, user_id: int, guild_id: int, artist_ids: list[int]) -> None:
        """Member artists a Last.fm import brought in this server are seen there, as liked there."""
        wanted = [a for a in artist_ids if a >= MEMBER_ARTIST_ID_BASE]
        if not wanted:
            return
        await self.store.artists.show_in_server(guild_id, user_id, wanted)
        for artist_id in wanted:
            self.shown_in(artist_id, guild_id)

    async def listed(self, guild_id: int) -> list[ServerArtistRow]:
        """The artists members added (or liked) in this server, newest first."""
        return await self.store.artists.server_artists(guild_id)

    async def remove(self, guild_id: int, name: str) -> Removed | None:
        """Hide the added artist with this name in this server, whether added here or seen everywhere
        (deleting it if nothing else refers to it); None if this server sees no added artist of that name."""
        await self.sync()
        members = self.members
        artist = self.models.catalogue.visible_in(guild_id).lookup(clean_user_text(name))
        if members is None or artist is None or artist.artist_id not in members:
            return None
        removal = await self.store.artists.remove_from_server(guild_id, artist.artist_id)
        if removal is None:
            return None
        members.hide_in(artist.artist_id, guild_id)
        if removal == "deleted":
            members.withdraw(artist.artist_id)
        return Removed(artist, removal)

    def is_lastfm_name(self, name: str) -> bool:
        """Whether the Last.fm data names this artist (such names need no checking)."""
        catalogue = self.models.catalogue
        base = catalogue.base if isinstance(catalogue, CatalogueView) else catalogue
        return base.lookup(name) is not None

    async def sync(self) -> None:
        """Read the store's rows again when a new snapshot is served (and first of all at start)."""
        if self.members is None:
            return
        # A directory without a served state (the importer's own catalogue) reads the store once.
        state = getattr(self.models, "state", None)
        if state is self._mirrored and self._mirrored_once:
            return
        async with self._mirroring:
            if state is self._mirrored and self._mirrored_once:
                return
            members = self.members
            assert members is not None
            # Merged into what this process already recorded: a like written while these rows were read
            # must not be undone by them. Only artists held before the read can have been deleted since.
            held = members.named_ids()
            stored = await self.store.artists.member_artists()
            for artist_id in held - {a.id for a in stored}:
                members.withdraw(artist_id)
            await self.models.include_artists([(a.id, a.name, a.url) for a in stored])
            for artist_id, guild_id, hidden in await self.store.artists.server_visibility():
                if hidden:
                    members.hide_in(artist_id, guild_id)
                else:
                    members.show_in(artist_id, guild_id)
            self._mirrored, self._mirrored_once = state, True

    def needs_naming(self, artist_id: int) -> bool:
        """Whether the serving catalogue must be told this stored artist's name (`include_artists`)."""
        members = self.members
        if members is None:
            return artist_id not in self.models.catalogue
        return artist_id not in self.models.catalogue.base and not members.findable(artist_id)
