"""A member's likes and discovery commands of the real bot, through the emulator: /like (autocomplete and
"Did you mean"), /unlike, /likes, /privacy, /recommend (its selects and Show more), /similar and /why.

One bot serves the whole module (see conftest); each test uses fresh members. The last test checks
every REST request the bot made in this module against Discord's OpenAPI description.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.components import button, select
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import assert_every_request_clean, embed_lines, text_of
from tests.helpers.e2e_recommend import LIKE_SELECT, recommended

pytestmark = pytest.mark.slow

ITEM = re.compile(r"^\*\*(\d+)\.\*\* \[(.+?)\]\((https://www\.last\.fm/\S+?)\)(.*)$")
DISMISS_SELECT = "🚫"


def items(message: dict[str, Any]) -> list[re.Match[str]]:
    return embed_lines(message, ITEM, "'**n.** [name](last.fm url) — because you like …'")


# -- 1. /like, /unlike, /likes, /privacy -----------------------------------------------------------


def test_like_autocomplete_answers_fast_with_radiohead(encore: Encore) -> None:
    member = encore.member()
    record = encore.autocomplete(member, "like", "artist", "radioh")
    assert record.callback_type == 8
    names = [c["name"] for c in record.choices]
    assert "Radiohead" in names, names
    assert 0 < len(names) <= 25
    assert all(c["value"] and len(c["value"]) <= 100 and len(c["name"]) <= 100 for c in record.choices)
    assert record.callback is not None and not record.rejections, record.rejections  # within the deadline


def test_like_then_like_again_says_already(encore: Encore) -> None:
    member = encore.member()
    first = encore.command(member, "like", {"artist": "Radiohead"}).final_message()
    assert first["ephemeral"]
    assert first["content"].startswith("Noted: you like") and "Radiohead" in first["content"], first["content"]
    assert "https://www.last.fm/music/Radiohead" in first["content"]
    again = encore.command(member, "like", {"artist": "radiohead"}).final_message()
    assert again["ephemeral"] and "already" in again["content"] and "Radiohead" in again["content"], again["content"]
    assert encore.liked_ids(member) == {encore.artist_id("Radiohead")}


def test_unlike_autocomplete_lists_only_your_own_likes_and_unlike_works(encore: Encore) -> None:
    member, other = encore.member(), encore.member()
    like(encore, member, "Radiohead", "Björk")
    like(encore, other, "Metallica")
    everything = encore.autocomplete(member, "unlike", "artist", "")
    assert everything.callback_type == 8
    assert sorted(c["name"] for c in everything.choices) == ["Björk", "Radiohead"]
    narrowed = encore.autocomplete(member, "unlike", "artist", "radio")
    assert [c["name"] for c in narrowed.choices] == ["Radiohead"]
    assert encore.autocomplete(member, "unlike", "artist", "metal").choices == []

    removed = encore.command(member, "unlike", {"artist": "Björk"}).final_message()
    assert removed["ephemeral"] and removed["content"].startswith("Removed") and "Björk" in removed["content"]
    assert encore.liked_ids(member) == {encore.artist_id("Radiohead")}
    not_liked = encore.command(member, "unlike", {"artist": "Björk"}).final_message()
    assert not_liked["ephemeral"] and "was not among your likes" in not_liked["content"]

    listing = encore.command(member, "likes").final_message()
    assert listing["ephemeral"]
    shown = text_of(listing)
    assert "Radiohead" in shown and "Björk" not in shown
    assert "Page 1 of 1 · 1 artist" in shown
    assert listing["components"] == [], "one page needs no buttons"


def test_likes_pages_with_the_next_button(encore: Encore) -> None:
    member = encore.member()
    names = [
        "Radiohead",
        "Björk",
        "Portishead",
        "Massive Attack",
        "Daft Punk",
        "Justice",
        "Gorillaz",
        "Metallica",
        "Iron Maiden",
        "Megadeth",
        "Coldplay",
        "Muse",
    ]
    like(encore, member, *names)
    record = encore.command(member, "likes")
    page1 = record.final_message()
    assert page1["ephemeral"]
    assert "Page 1 of 2 · 12 artists" in text_of(page1)
    (embed,) = page1["embeds"]
    assert len(embed["description"].splitlines()) == 10
    assert button(page1, "◀ Previous")["disabled"] is True
    following = button(page1, "Next ▶")
    assert not following.get("disabled")

    turned = encore.click(record, following["custom_id"], member)
    assert turned.callback_type == 7, "turning a page edits the message in place"
    page2 = turned.final_message()
    assert page2["id"] == page1["id"]
    shown = text_of(page2)
    assert "Page 2 of 2 · 12 artists" in shown
    (embed,) = page2["embeds"]
    lines = embed["description"].splitlines()
    assert len(lines) == 2 and lines[0].startswith("11. ") and lines[1].startswith("12. ")
    # Newest first: the two liked first are on the second page.
    assert "Radiohead" in lines[0] + lines[1] and "Björk" in lines[0] + lines[1], lines
    assert button(page2, "Next ▶")["disabled"] is True
    assert not button(page2, "◀ Previous").get("disabled")


def test_privacy_and_other_members_likes(encore: Encore) -> None:
    viewer, shy, open_ = encore.member(), encore.member("shy"), encore.member("open")
    like(encore, shy, "Radiohead")
    like(encore, open_, "Björk")

    current = encore.command(shy, "privacy").final_message()
    assert current["ephemeral"] and "Your privacy is **public**" in current["content"]
    changed = encore.command(shy, "privacy", {"setting": "private"}).final_message()
    assert changed["ephemeral"] and "Your privacy is now **private**" in changed["content"]
    assert "Your privacy is **private**" in encore.command(shy, "privacy").final_message()["content"]

    refused = encore.command(viewer, "likes", {"member": shy}).final_message()
    assert refused["ephemeral"]
    # (reply_error capitalises the first letter, so "shy7" reads "Shy7": compare without case.)
    assert "keeps their likes private" in refused["content"]
    assert shy.user.username.casefold() in refused["content"].casefold()
    assert "Radiohead" not in text_of(refused)

    public = encore.command(viewer, "likes", {"member": open_}).final_message()
    assert not public["ephemeral"], "another member's public likes are shown in the channel"
    assert "Björk" in text_of(public) and f"Liked by {open_.user.username}" in text_of(public)

    own = encore.command(shy, "likes").final_message()
    assert own["ephemeral"] and "Radiohead" in text_of(own), "private likes are still shown to their owner"


# -- 2. "Did you mean" -----------------------------------------------------------------------------

UNKNOWN = "Qwzxv Blorp"
ADD_LABEL = f"Add “{UNKNOWN}” as a new artist"


def test_unknown_name_offers_suggestions_and_one_click_likes_it(encore: Encore) -> None:
    member = encore.member()
    record = encore.command(member, "like", {"artist": UNKNOWN})
    message = record.final_message()
    assert message["ephemeral"]
    assert f"No artist called “{UNKNOWN}”" in message["content"] and "Did you mean" in message["content"]
    buttons = message["components"][0]["components"]
    labels = [b["label"] for b in buttons]
    assert labels[-1] == ADD_LABEL and len(labels) >= 2, labels
    suggestion = buttons[0]
    artist_id = encore.artist_id(suggestion["label"])

    clicked = encore.click(record, suggestion["custom_id"], member)
    assert clicked.callback_type == 7
    after = clicked.final_message()
    assert after["content"].startswith("Noted: you like ") and after["content"].endswith("."), after["content"]
    assert after["components"] == [], "the buttons go once one was used"
    assert encore.liked_ids(member) == {artist_id}


def test_unknown_name_can_be_added_as_a_new_artist(encore: Encore) -> None:
    member = encore.member()
    record = encore.command(member, "like", {"artist": UNKNOWN})
    add = button(record.final_message(), ADD_LABEL)
    clicked = encore.click(record, add["custom_id"], member)
    assert clicked.callback_type == 7
    content = clicked.final_message()["content"]
    assert content.startswith(f"Added {UNKNOWN} as a new artist"), content
    assert len(encore.liked_ids(member)) == 1
    listing = encore.command(member, "likes").final_message()
    assert UNKNOWN in text_of(listing)
    again = encore.command(member, "like", {"artist": UNKNOWN}).final_message()
    assert "already" in again["content"], "the new artist is found by name from now on"


# -- 3. /recommend ---------------------------------------------------------------------------------

TASTE = ("Radiohead", "Björk", "Portishead", "Massive Attack")


def test_recommend_lists_new_artists_with_links_and_reasons(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    record = encore.command(member, "recommend", {"count": 7})
    message = record.final_message()
    assert message["ephemeral"]
    (embed,) = message["embeds"]
    assert embed["title"] == "Recommended for you"
    found = items(message)
    assert [int(m.group(1)) for m in found] == list(range(1, 8))
    assert all("because you like" in m.group(4) for m in found), embed["description"]
    names = [name for _, name in recommended(message)]
    assert len(names) == 7 and not set(names) & set(TASTE), names
    liked_urls = {encore.app.models.catalogue.get(encore.artist_id(n)).url for n in TASTE}
    assert not {m.group(3) for m in found} & liked_urls
    assert select(message, DISMISS_SELECT)["options"] == select(message, LIKE_SELECT)["options"]


def test_recommend_like_and_dismiss_selects_count_at_once(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    record = encore.command(member, "recommend", {"count": 5})
    first = recommended(record.final_message())
    assert len(first) == 5
    (liked_id, liked_name), (dismissed_id, dismissed_name) = first[0], first[1]

    liked = encore.click(
        record, select(record.final_message(), LIKE_SELECT)["custom_id"], member, values=[str(liked_id)]
    )
    answer = liked.final_message()
    assert answer["ephemeral"] and answer["content"].startswith("Noted: you like") and liked_name in answer["content"]
    assert liked_id in encore.liked_ids(member)
    fresh = [i for i, _ in recommended(encore.command(member, "recommend", {"count": 5}).final_message())]
    assert liked_id not in fresh, "a like counts in the very next /recommend"

    dismissed = encore.click(
        record, select(record.final_message(), DISMISS_SELECT)["custom_id"], member, values=[str(dismissed_id)]
    )
    answer = dismissed.final_message()
    assert answer["ephemeral"] and "will not recommend" in answer["content"] and dismissed_name in answer["content"]
    assert dismissed_id in encore.run(encore.app.store.likes.taste_of(member.id)).not_interested
    fresh = [i for i, _ in recommended(encore.command(member, "recommend", {"count": 25}).final_message())]
    assert dismissed_id not in fresh and liked_id not in fresh


def test_recommend_show_more_continues_the_list(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    ranking = [i for i, _ in recommended(encore.command(member, "recommend", {"count": 10}).final_message())]
    record = encore.command(member, "recommend", {"count": 5})
    first = [i for i, _ in recommended(record.final_message())]
    assert first == ranking[:5]

    more = encore.click(record, button(record.final_message(), "Show more")["custom_id"], member)
    assert more.callback_type == 4, "Show more answers with a new message"
    message = more.final_message()
    assert message["ephemeral"] and message["embeds"][0]["title"] == "More recommendations"
    assert [int(m.group(1)) for m in items(message)] == [6, 7, 8, 9, 10]
    assert all("because you like" in m.group(4) for m in items(message))
    # The new message's selects offer every artist shown so far.
    offered = [i for i, _ in recommended(message)]
    assert offered == ranking[:10]


def test_show_more_after_a_like_shows_the_best_artists_not_yet_shown(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    record = encore.command(member, "recommend", {"count": 5})
    first = [i for i, _ in recommended(record.final_message())]
    encore.click(record, select(record.final_message(), LIKE_SELECT)["custom_id"], member, values=[str(first[0])])

    more = encore.click(record, button(record.final_message(), "Show more")["custom_id"], member)
    extra = [i for i, _ in recommended(more.final_message())][-5:]
    # The ranking now (the like counts at once); reading it changes nothing.
    ranking = [i for i, _ in recommended(encore.command(member, "recommend", {"count": 25}).final_message())]
    expected = [i for i in ranking if i not in first][:5]
    assert extra == expected, f"shown first {first}; then {extra}; best not yet shown {expected}"


def test_recommend_without_likes_says_to_like_first(encore: Encore) -> None:
    member = encore.member()
    message = encore.command(member, "recommend").final_message()
    assert message["ephemeral"] and message["embeds"] == []
    assert "/like" in message["content"] and message["content"].startswith("⚠️"), message["content"]


def test_recommend_by_genre_only_lists_that_genre(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    message = encore.command(member, "recommend", {"count": 5, "genre": "rock"}).final_message()
    assert message["ephemeral"]
    assert message["embeds"][0]["title"] == "Recommended for you in rock"
    found = recommended(message)
    assert len(found) == 5
    catalogue = encore.app.models.catalogue
    for artist_id, name in found:
        assert "rock" in catalogue.top_tags(artist_id, 10), (name, catalogue.top_tags(artist_id, 10))
    nothing = encore.command(member, "recommend", {"genre": "no such genre at all"}).final_message()
    assert nothing["ephemeral"] and "tagged" in nothing["content"]


# -- 4. /similar and /why --------------------------------------------------------------------------


def test_similar_lists_other_artists(encore: Encore) -> None:
    member = encore.member()
    message = encore.command(member, "similar", {"artist": "Daft Punk", "count": 5}).final_message()
    (embed,) = message["embeds"]
    assert embed["title"] == "Similar to Daft Punk"
    lines = embed["description"].splitlines()
    assert len(lines) == 5
    assert all(
        re.match(
            r"^\*\*\d\.\*\* \[.+\]\(https://www\.last\.fm/\S+\) \(\d+% alike\)"
            r" · 🎧 \[Last\.fm\]\(\S+\) · \[Spotify\]\(\S+\) · \[YouTube Music\]\(\S+\)$",
            line,
        )
        for line in lines
    ), lines
    assert not any("[Daft Punk]" in line for line in lines)


def test_similar_with_an_unknown_artist_suggests_names(encore: Encore) -> None:
    member = encore.member()
    message = encore.command(member, "similar", {"artist": "Daft Punkk"}).final_message()
    assert message["ephemeral"] and message["embeds"] == []
    assert "No artist called “Daft Punkk”" in message["content"] and "Did you mean" in message["content"]
    assert "Daft Punk" in message["content"]


def test_why_explains_a_recommendation_and_a_like(encore: Encore) -> None:
    member = encore.member()
    like(encore, member, *TASTE)
    top_id, top_name = recommended(encore.command(member, "recommend", {"count": 3}).final_message())[0]
    message = encore.command(member, "why", {"artist": top_name}).final_message()
    assert message["ephemeral"]
    (embed,) = message["embeds"]
    assert embed["title"].startswith("Why ") and embed["url"] == encore.app.models.catalogue.get(top_id).url
    assert "Because you like" in embed["description"]
    assert "ranks #1 " in embed["description"], embed["description"]

    liked = encore.command(member, "why", {"artist": "Björk"}).final_message()
    assert liked["ephemeral"]
    assert "You already like Björk" in text_of(liked)
    assert "ranks #" not in text_of(liked)


# -- 5. everything the bot sent --------------------------------------------------------------------


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made (above, and these few), against the spec."""
    member = encore.member()
    like(encore, member, "Radiohead", "Björk")
    record = encore.command(member, "recommend", {"count": 3})
    encore.click(record, button(record.final_message(), "Show more")["custom_id"], member)
    encore.command(encore.member("admin", manage_guild=True), "encore", subcommand="status")

    requests = encore.requests()
    routes = {r.route for r in requests if r.json is not None}
    assert {
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "/applications/{application_id}/commands",
    } <= routes, routes
    assert_every_request_clean(requests)
