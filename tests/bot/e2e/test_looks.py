"""Each kind of reply wears its own colour (bot.looks) and only https thumbnails reach Discord, end to end.

One bot serves the module, on the real data; the last test checks every REST request the bot made
against Discord's OpenAPI spec, thumbnails included.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot import looks
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import assert_every_request_clean, text_of

pytestmark = pytest.mark.slow

TASTE = ("Radiohead", "Björk", "Portishead")


def embed_of(message: dict[str, Any]) -> dict[str, Any]:
    embeds = message.get("embeds") or []
    assert len(embeds) == 1, message
    return embeds[0]


def assert_kind(message: dict[str, Any], colour, what: str) -> dict[str, Any]:
    embed = embed_of(message)
    assert embed.get("color") == colour.value, f"{what}: colour {embed.get('color')!r}, wanted {colour.value:#08x}"
    return embed


def assert_thumbnail_is_https_or_absent(embed: dict[str, Any]) -> None:
    thumbnail = embed.get("thumbnail")
    if thumbnail is not None:
        assert str(thumbnail.get("url", "")).startswith("https://"), thumbnail


def test_recommend_similar_and_why_wear_their_own_colours(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    recommend = assert_kind(
        encore.command(member, "recommend", {"count": 3}).final_message(), looks.RECOMMEND, "/recommend"
    )
    assert "thumbnail" not in recommend, "a list of artists is about no one artist"
    similar = assert_kind(
        encore.command(member, "similar", {"artist": "Radiohead"}).final_message(), looks.SIMILAR, "/similar"
    )
    why = assert_kind(encore.command(member, "why", {"artist": "Massive Attack"}).final_message(), looks.WHY, "/why")
    assert why["title"].startswith("Why ")
    assert len({looks.RECOMMEND.value, looks.SIMILAR.value, looks.WHY.value}) == 3
    for embed in (similar, why):
        assert_thumbnail_is_https_or_absent(embed)
        # The 2011 catalogue's pictures sit on Last.fm's old plain-http host: none may reach Discord.
        assert "thumbnail" not in embed, embed["thumbnail"]


def test_social_account_info_and_trends_replies_have_their_kinds(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, "Radiohead")
    whoknows = encore.command(member, "whoknows", {"artist": "Radiohead"}).final_message()
    assert_thumbnail_is_https_or_absent(assert_kind(whoknows, looks.SOCIAL, "/whoknows"))
    assert_kind(encore.command(member, "likes").final_message(), looks.ACCOUNT, "/likes")
    assert_kind(encore.command(member, "help").final_message(), looks.INFO, "/help")
    assert_kind(encore.command(member, "trending").final_message(), looks.TRENDS, "/trending")


def test_an_error_is_plain_text_or_wears_the_error_colour(encore: Encore) -> None:
    member = encore.member()
    for name, options in (("why", {"artist": "Daft Punkk"}), ("similar", {"artist": "zzzz-no-such-artist-zzzz"})):
        message = encore.command(member, name, options).final_message()
        assert message["ephemeral"], message
        embeds = message.get("embeds") or []
        if embeds:
            assert all(e.get("color") == looks.ERROR.value for e in embeds), embeds
        else:
            assert "No artist called" in text_of(message), text_of(message)


def test_every_request_matched_discords_spec(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
