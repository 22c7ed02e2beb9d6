"""Buttons and menus: they still answer after a restart, refuse forgeries and show when they have expired.

One bot serves the module (see conftest); the `restarted` fixture replaces it halfway by a new bot on
the same database and snapshot folder (tests/helpers/restart.py), after sending the messages whose
components are then clicked. A crafted click is one Discord's client would not send: any custom id,
any value, on any message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.menus.forget import ConfirmForget
from bot.menus.likes import DidYouMean
from bot.menus.recommend import RecommendationView
from discord_emulator import InteractionRecord, Member
from tests.helpers.components import all_disabled, button, components, option_values, select
from tests.helpers.restart import restart_bot

pytestmark = pytest.mark.slow

TASTE = ("Radiohead", "Björk", "Portishead", "Massive Attack")
LIKE, DISMISS = "👍", "🚫"
MANY = TASTE + ("Daft Punk", "Justice", "Gorillaz", "Metallica", "Iron Maiden", "Megadeth", "Coldplay", "Muse")
UNKNOWN = "Qwzxv Blorp"
#: Too long for a custom id beside the owner: the "Add" button keeps it in the bot's memory.
LONG_UNKNOWN = "The Quietly Luminous Orchestra of Northern Winter Evenings and Distant Harbour Lights"
EXPIRED = "⚠️ This menu has expired, run {} again."


def like(encore: Any, member: Member, *names: str) -> None:
    for name in names:
        content = encore.command(member, "like", {"artist": name}).final_message()["content"]
        assert content.startswith(("Noted: you like", "You already like")), content


def ephemeral_content(record: InteractionRecord) -> str:
    message = record.final_message()
    assert message["ephemeral"], message
    return message["content"]


def offered_ids(message: dict[str, Any]) -> list[int]:
    return [int(v) for v in option_values(message, LIKE)]


def recommending(encore: Any, member: Member, count: int = 5) -> InteractionRecord:
    like(encore, member, *TASTE)
    record = encore.command(member, "recommend", {"count": count})
    assert len(offered_ids(record.final_message())) == count
    return record


# -- forged clicks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("custom_id", "command"),
    [
        ("encore:more:{other}:5", "/recommend"),
        ("encore:forget:{other}:confirm", "/forget-me"),
        ("totally-unknown", "the command"),
    ],
)
def test_a_forged_custom_id_gets_an_ephemeral_answer_and_does_nothing(
    encore: Any, custom_id: str, command: str
) -> None:
    member, other = encore.member(), encore.member("other")
    like(encore, other, "Radiohead")
    record = recommending(encore, member)
    forged = encore.click(record, custom_id.format(other=other.id), member, crafted=True, timeout=5)
    assert ephemeral_content(forged) == EXPIRED.format(command)
    assert encore.liked_ids(other) == {encore.artist_id("Radiohead")}, "nothing of the other member's changed"
    assert len(encore.liked_ids(member)) == len(TASTE)


@pytest.mark.parametrize("value", ["987654321", "not-an-id", "Metallica"])
@pytest.mark.parametrize("menu", [LIKE, DISMISS])
def test_a_forged_menu_value_gets_a_clear_answer_and_is_not_stored(encore: Any, menu: str, value: str) -> None:
    member = encore.member()
    record = recommending(encore, member)
    if value == "Metallica":  # a real artist, but not one the menu offers
        value = str(encore.artist_id("Metallica"))
        assert int(value) not in offered_ids(record.final_message())
    custom_id = select(record.final_message(), menu)["custom_id"]
    forged = encore.click(record, custom_id, member, values=[value], crafted=True, timeout=5)
    assert ephemeral_content(forged) == ("⚠️ That is not one of the artists this menu offers; run /recommend again."), (
        forged.final_message()
    )
    assert encore.liked_ids(member) == {encore.artist_id(name) for name in TASTE}
    assert not encore.run(encore.app.store.likes.taste_of(member.id)).not_interested


# -- timeouts --------------------------------------------------------------------------------------


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Views that expire within a second (the bot runs in this process, so the classes are its own)."""
    for view in (RecommendationView, ConfirmForget, DidYouMean):
        monkeypatch.setattr(view, "timeout_seconds", 0.5)


def test_timed_out_menus_are_shown_disabled_and_others_keep_working(encore: Any, short_timeouts: None) -> None:
    member = encore.member()
    record = recommending(encore, member)
    asked = encore.command(member, "forget-me")
    encore.until(lambda: all_disabled(record.final_message()), 10, "the /recommend menus to be disabled")
    encore.until(lambda: all_disabled(asked.final_message()), 10, "the /forget-me buttons to be disabled")
    assert [c["type"] for c in components(record.final_message())] == [3, 3, 2]
    assert record.final_message()["embeds"], "only the components changed"

    # Expiry disabled one message's items; the same kind of items on a new message still answer.
    fresh = encore.command(member, "recommend", {"count": 3})
    more = encore.click(fresh, button(fresh.final_message(), "Show more")["custom_id"], member)
    assert more.final_message()["embeds"][0]["title"] == "More recommendations"


def test_a_menu_whose_controls_were_used_up_does_not_get_them_back_on_timeout(
    encore: Any, short_timeouts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DidYouMean, "timeout_seconds", 1.5)  # time enough to click it first
    member = encore.member()
    used = encore.command(member, "like", {"artist": UNKNOWN})
    first = components(used.final_message())[0]
    picked = encore.click(used, first["custom_id"], member)
    assert picked.final_message()["components"] == []
    # Sent after the first: once it is shown disabled, the first one's timeout has passed too.
    later = encore.command(member, "like", {"artist": UNKNOWN})
    encore.until(lambda: all_disabled(later.final_message()), 10, "the second message's buttons to be disabled")
    assert used.final_message()["components"] == [], "the used buttons stay gone"
    assert used.final_message()["content"].startswith("Noted: you like")


# -- a restart -------------------------------------------------------------------------------------


@dataclass
class BeforeRestart:
    """Messages sent by the first bot, and who they belong to."""

    listener: Member
    recommended: InteractionRecord
    did_you_mean: InteractionRecord
    long_name: InteractionRecord
    collector: Member
    own_pages: InteractionRecord
    viewer: Member
    public_pages: InteractionRecord
    leaver: Member
    forget: InteractionRecord


@pytest.fixture(scope="module")
def restarted(encore: Any) -> BeforeRestart:
    listener, collector, viewer, leaver = (encore.member(p) for p in ("listener", "collector", "viewer", "leaver"))
    like(encore, listener, *TASTE)
    like(encore, collector, *MANY)
    like(encore, leaver, "Radiohead", "Björk")
    sent = BeforeRestart(
        listener=listener,
        recommended=encore.command(listener, "recommend", {"count": 5}),
        did_you_mean=encore.command(listener, "like", {"artist": UNKNOWN}),
        long_name=encore.command(listener, "like", {"artist": LONG_UNKNOWN}),
        collector=collector,
        own_pages=encore.command(collector, "likes"),
        viewer=viewer,
        public_pages=encore.command(viewer, "likes", {"member": collector}),
        leaver=leaver,
        forget=encore.command(leaver, "forget-me"),
    )
    restart_bot(encore)
    return sent


def test_show_more_and_the_like_menu_answer_after_a_restart(encore: Any, restarted: BeforeRestart) -> None:
    member, record = restarted.listener, restarted.recommended
    first = offered_ids(record.final_message())

    more = encore.click(record, button(record.final_message(), "Show more")["custom_id"], member, timeout=5)
    message = more.final_message()
    assert message["ephemeral"] and message["embeds"][0]["title"] == "More recommendations"
    assert message["embeds"][0]["description"].startswith("**6.** ")
    offered = offered_ids(message)
    assert offered[:5] == first, "the new menus offer every artist shown so far"
    # The best five not shown yet, by the model the new bot serves (it may be a newer one).
    ranking = offered_ids(encore.command(member, "recommend", {"count": 25}).final_message())
    assert offered[5:] == [i for i in ranking if i not in first][:5]

    chosen = first[2]
    liked = encore.click(record, select(record.final_message(), LIKE)["custom_id"], member, values=[str(chosen)])
    assert ephemeral_content(liked).startswith("Noted: you like")
    assert chosen in encore.liked_ids(member)


def test_did_you_mean_answers_after_a_restart_but_a_long_name_has_expired(
    encore: Any, restarted: BeforeRestart
) -> None:
    member = restarted.listener
    suggestion = components(restarted.did_you_mean.final_message())[0]
    picked = encore.click(restarted.did_you_mean, suggestion["custom_id"], member, timeout=5)
    assert picked.callback_type == 7 and picked.final_message()["content"].startswith("Noted: you like")
    assert encore.artist_id(suggestion["label"]) in encore.liked_ids(member)

    add = components(restarted.long_name.final_message())[-1]
    assert add["label"].startswith("Add “") and len(add["custom_id"]) <= 100
    expired = encore.click(restarted.long_name, add["custom_id"], member, timeout=5)
    assert ephemeral_content(expired) == EXPIRED.format("/like")
    assert restarted.long_name.final_message()["components"], "the message itself is left as it was"


def test_page_buttons_answer_after_a_restart_and_only_for_their_owner(encore: Any, restarted: BeforeRestart) -> None:
    own = restarted.own_pages
    turned = encore.click(own, button(own.final_message(), "Next ▶")["custom_id"], restarted.collector, timeout=5)
    assert turned.callback_type == 7
    page2 = turned.final_message()
    assert page2["id"] == own.final_message()["id"]
    assert page2["embeds"][0]["footer"]["text"] == f"Page 2 of 2 · {len(MANY)} artists"
    assert page2["embeds"][0]["title"] == f"Liked by {restarted.collector.user.username}"

    public = restarted.public_pages
    assert not public.final_message()["ephemeral"], "another member's likes are shown in the channel"
    stranger = encore.member("stranger")
    refused = encore.click(public, button(public.final_message(), "Next ▶")["custom_id"], stranger, timeout=5)
    assert ephemeral_content(refused) == "⚠️ Run /likes yourself to turn the pages."
    assert "Page 1 of 2" in public.final_message()["embeds"][0]["footer"]["text"]


def test_forget_me_confirmed_after_a_restart_deletes_only_for_its_owner(encore: Any, restarted: BeforeRestart) -> None:
    leaver, asked = restarted.leaver, restarted.forget
    confirm = button(asked.final_message(), "Delete all my data")["custom_id"]
    kept = encore.liked_ids(leaver)
    assert len(kept) == 2

    intruder = encore.member("intruder")
    like(encore, intruder, "Metallica")
    refused = encore.click(asked, confirm, intruder, crafted=True, timeout=5)
    assert ephemeral_content(refused) == "⚠️ Only the member who asked can confirm this."
    assert encore.liked_ids(leaver) == kept and encore.liked_ids(intruder) == {encore.artist_id("Metallica")}

    done = encore.click(asked, confirm, leaver, timeout=5)
    # The click defers an update (forgetting may outlast Discord's 3 s), then edits the message.
    encore.until(lambda: done.final_message()["content"].startswith("Done"), 30, "the forget-me answer")
    assert done.final_message()["content"].startswith("Done: Encore deleted your 2 likes"), done.final_message()
    assert done.final_message()["components"] == []
    assert encore.liked_ids(leaver) == set()
