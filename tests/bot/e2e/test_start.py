"""/start through the emulator: a new member picks music types, then artists, and gets recommendations.

The flow's speed is measured in simulated clicks, not on the clock: each interaction and each value
chosen in a menu counts as one tap of `SECONDS_PER_TAP`, and the whole onboarding must fit in a minute.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from discord_emulator import InteractionRecord, Member
from recommender.onboarding import MAX_TYPES, PAGE_SIZE, TAG_DEPTH, TYPE_CHOICES
from tests.helpers.components import button, components, option_values, select
from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import assert_every_request_clean, raw_mentions, text_of
from tests.helpers.restart import restart_bot

pytestmark = pytest.mark.slow

TYPES_MENU, ARTISTS_MENU, LIKE_MENU = "🎵", "🎤", "👍"
#: A generous time for a member to read a step and tap once (open a menu, tick an option, press a button).
SECONDS_PER_TAP = 3.0
ONBOARDING_BUDGET_SECONDS = 60.0
CHOSEN_TYPES = ["rock", "electronic", "hip-hop"]
RECOMMENDATION_LINE = re.compile(r"^\*\*(\d+)\.\*\* \[(.+?)\]\(")


class Taps:
    """The simulated clicks of one member: one per interaction, plus one per value ticked in a menu."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, record: InteractionRecord, values: list[str] | None = None) -> InteractionRecord:
        self.count += 1 + len(values or [])
        return record

    @property
    def seconds(self) -> float:
        return self.count * SECONDS_PER_TAP


def start(encore: Encore, member: Member) -> InteractionRecord:
    record = encore.command(member, "start")
    message = record.final_message()
    assert message["ephemeral"], message
    return record


def choose(
    encore: Encore, record: InteractionRecord, member: Member, menu: str, values: list[str]
) -> InteractionRecord:
    custom_id = select(record.final_message(), menu)["custom_id"]
    return encore.click(record, custom_id, member, values=values)


def offered(message: dict[str, Any]) -> list[int]:
    return [int(v) for v in option_values(message, ARTISTS_MENU)]


def tags_of(encore: Encore, artist_id: int) -> set[str]:
    return set(encore.app.models.catalogue.top_tags(artist_id, TAG_DEPTH))


def recommendations_of(encore: Encore, record: InteractionRecord) -> dict[str, Any]:
    """The follow-up with the first recommendations (sent after the menu's own message is updated)."""

    def sent() -> list[dict[str, Any]]:
        return [m for m in record.followups if m.get("embeds")]

    encore.until(lambda: bool(sent()), what="the first recommendations")
    (message,) = encore.call(sent)
    return message


def every_message(*records: InteractionRecord) -> list[dict[str, Any]]:
    return [m for r in records for m in r.messages()]


def test_a_new_member_gets_recommendations_from_3_types_and_8_artists_within_a_minute_of_taps(
    encore: Encore,
) -> None:
    member, taps = encore.member("newcomer"), Taps()
    welcome = taps.add(start(encore, member))
    types_menu = select(welcome.final_message(), TYPES_MENU)
    assert "Step 1 of 2" in welcome.final_message()["content"]
    assert len(types_menu["options"]) == TYPE_CHOICES and types_menu["max_values"] == MAX_TYPES
    assert set(CHOSEN_TYPES) <= {o["value"] for o in types_menu["options"]}

    picked_types = taps.add(choose(encore, welcome, member, TYPES_MENU, CHOSEN_TYPES), CHOSEN_TYPES)
    step_two = picked_types.final_message()
    assert step_two["ephemeral"] and "Step 2 of 2" in step_two["content"], step_two
    artists = offered(step_two)
    assert len(artists) == PAGE_SIZE == len(set(artists))
    assert all(tags_of(encore, a) & set(CHOSEN_TYPES) for a in artists)
    assert not encore.liked_ids(member), "choosing types likes nothing yet"

    chosen = [str(a) for a in artists[:8]]
    done = taps.add(choose(encore, picked_types, member, ARTISTS_MENU, chosen), chosen)
    assert encore.liked_ids(member) == {int(a) for a in chosen}
    edited = done.final_message()
    assert edited["content"].startswith("✅ Liked "), edited["content"]
    assert offered(edited) == artists, "the same page stays, to pick more"
    first = recommendations_of(encore, done)
    assert first["flags"] & 64, "the recommendations are ephemeral"
    embed = first["embeds"][0]
    assert embed["title"] == "Your first recommendations"
    lines = [RECOMMENDATION_LINE.match(line) for line in embed["description"].splitlines()]
    assert len(lines) == 10 and all(lines), embed["description"]
    names = [m.group(2).replace("\\", "") for m in lines if m]
    recommended = {encore.artist_id(name) for name in names}
    assert not recommended & {int(a) for a in chosen}, "nothing already liked is recommended"
    like_options = [o["value"] for c in components(first) if c.get("type") == 3 for o in c["options"]]
    assert {int(v) for v in like_options} == recommended, "the recommendation menus offer what is shown"

    assert taps.count <= 1 + (1 + 3) + (1 + 8), "no step beyond /start, one type menu and one artist menu"
    assert taps.seconds < ONBOARDING_BUDGET_SECONDS
    for message in every_message(welcome, picked_types, done):
        assert not raw_mentions(message), text_of(message)


def test_show_others_pages_through_new_artists_and_other_types_goes_back(encore: Encore) -> None:
    member = encore.member("browser")
    record = choose(encore, start(encore, member), member, TYPES_MENU, ["metal", "folk"])
    seen: list[int] = offered(record.final_message())
    assert "page 1 of" in record.final_message()["content"]
    for page in (2, 3):
        record = encore.click(record, button(record.final_message(), "Show others")["custom_id"], member)
        message = record.final_message()
        assert f"page {page} of" in message["content"], message["content"]
        fresh = offered(message)
        assert not set(fresh) & set(seen), "each page offers artists not offered before"
        assert all(tags_of(encore, a) & {"metal", "folk"} for a in fresh)
        seen += fresh
    picked = choose(encore, record, member, ARTISTS_MENU, [str(seen[-1])])
    assert encore.liked_ids(member) == {seen[-1]}, "a later page's artist is liked"
    assert "page 3 of" in picked.final_message()["content"]

    back = encore.click(picked, button(picked.final_message(), "Other music types")["custom_id"], member)
    assert "Step 1 of 2" in back.final_message()["content"]
    assert option_values(back.final_message(), TYPES_MENU)


def test_comma_like_takes_several_names_and_reports_each_unknown_one(encore: Encore) -> None:
    member = encore.member("lister")
    message = encore.command(member, "like", {"artist": "Radiohead, Björk, Qwzxv Blorp, Portishead"}).final_message()
    assert message["ephemeral"]
    assert message["content"].startswith("Noted: you like Radiohead, Björk and Portishead."), message["content"]
    assert "No artist called “Qwzxv Blorp”" in message["content"]
    assert encore.liked_ids(member) == {encore.artist_id(n) for n in ("Radiohead", "Björk", "Portishead")}
    mentioned = encore.command(member, "like", {"artist": "@everyone, <@123>, Radiohead"}).final_message()
    assert not raw_mentions(mentioned), mentioned["content"]
    assert "You already like Radiohead." in mentioned["content"]


def test_help_points_new_members_to_start(encore: Encore) -> None:
    text = text_of(encore.command(encore.member("helped"), "help").final_message())
    assert "__Start here__\n`/start` — " in text, text
    assert text.index("/start") < text.index("/like"), "the first pointer is /start"


# -- refusals ----------------------------------------------------------------------------------------


def test_someone_else_clicking_gets_a_refusal_and_nothing_is_liked(encore: Encore) -> None:
    owner, other = encore.member("owner"), encore.member("other")
    record = choose(encore, start(encore, owner), owner, TYPES_MENU, CHOSEN_TYPES)
    custom_id = select(record.final_message(), ARTISTS_MENU)["custom_id"]
    value = str(offered(record.final_message())[0])
    refused = encore.click(record, custom_id, other, values=[value], crafted=True)
    message = refused.final_message()
    assert message["ephemeral"] and "belong to whoever ran /start" in message["content"], message
    assert not encore.liked_ids(other) and not encore.liked_ids(owner)


EXPIRED = "This menu has expired, run /start again."


@pytest.mark.parametrize(
    ("forge", "reply"),
    [
        ("value", "That is not one of the artists this menu offers; run /start again."),
        # A custom id the message does not hold never reaches the menus (discord.py checks the message).
        ("page", EXPIRED),
        ("codes", EXPIRED),
        ("types", EXPIRED),
    ],
)
def test_a_forged_click_gets_a_clear_answer_and_likes_nothing(encore: Encore, forge: str, reply: str) -> None:
    member = encore.member("forger")
    welcome = start(encore, member)
    types_id = select(welcome.final_message(), TYPES_MENU)["custom_id"]
    record = choose(encore, welcome, member, TYPES_MENU, CHOSEN_TYPES)
    custom_id = select(record.final_message(), ARTISTS_MENU)["custom_id"]
    owner, page, codes = re.fullmatch(r"encore:start:pick:(\d+):(\d+):(.+)", custom_id).groups()  # type: ignore[union-attr]
    metallica = str(encore.artist_id("Metallica"))
    first = str(offered(record.final_message())[0])
    forged = {
        "value": (custom_id, [metallica]),
        "page": (f"encore:start:pick:{owner}:1:{codes}", [first]),
        "codes": (f"encore:start:pick:{owner}:{page}:99.3", [first]),
        "types": (types_id, ["rock", "seen live"]),
    }[forge]
    answer = encore.click(record, forged[0], member, values=forged[1], crafted=True)
    message = answer.final_message()
    assert message["ephemeral"] and message["content"] == f"⚠️ {reply}", message
    assert not encore.liked_ids(member)


def test_a_forged_choice_of_types_gets_a_clear_answer_and_the_step_stays(encore: Encore) -> None:
    member = encore.member("typeforger")
    welcome = start(encore, member)
    custom_id = select(welcome.final_message(), TYPES_MENU)["custom_id"]
    too_many = option_values(welcome.final_message(), TYPES_MENU)[: MAX_TYPES + 1]
    for values in (["rock", "seen live"], too_many, []):
        answer = encore.click(welcome, custom_id, member, values=values, crafted=True)
        message = answer.final_message()
        assert message["ephemeral"], message
        assert message["content"] == "⚠️ Pick 1 to 5 of the music types the menu offers; run /start again."
    assert "Step 1 of 2" in welcome.final_message()["content"]


# -- a restart -----------------------------------------------------------------------------------------


def test_the_menus_answer_after_a_restart(encore: Encore) -> None:
    member = encore.member("restarter")
    artists = choose(encore, start(encore, member), member, TYPES_MENU, ["ambient"])
    before = offered(artists.final_message())
    restart_bot(encore)
    others = encore.click(artists, button(artists.final_message(), "Show others")["custom_id"], member)
    assert "page 2 of" in others.final_message()["content"]
    fresh = offered(others.final_message())
    assert fresh and not set(fresh) & set(before)
    done = choose(encore, others, member, ARTISTS_MENU, [str(a) for a in fresh[:3]])
    assert encore.liked_ids(member) == set(fresh[:3])
    assert recommendations_of(encore, done)["embeds"][0]["title"] == "Your first recommendations"
    back = encore.click(done, button(done.final_message(), "Other music types")["custom_id"], member)
    again = choose(encore, back, member, TYPES_MENU, ["metal"])
    assert "Step 2 of 2" in again.final_message()["content"]


def test_zz_every_request_clean(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
