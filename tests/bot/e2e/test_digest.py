"""/encore digest: a weekly server digest, set by a moderator, posted on schedule, once a week, through
restarts; `off` stops it. End to end through the emulator.

The digest service's clock is injected: each test sets the schedule a couple of hours ahead of the real
time, then sets the clock just past that hour and runs the due-check the bot's loop runs (the loop itself,
on the real clock, finds nothing due meanwhile). The last test checks every REST request against
Discord's OpenAPI spec.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.services.digest import WEEKDAYS
from discord_emulator import Channel, Member
from discord_emulator.permissions import SEND_MESSAGES
from tests.helpers.e2e import Encore, like
from tests.helpers.e2e_messages import assert_every_request_clean, raw_mentions, text_of
from tests.helpers.restart import restart_bot

pytestmark = pytest.mark.slow

ART_POP = ("Radiohead", "Björk", "Portishead")
METAL = ("Metallica", "Slayer", "Iron Maiden")


def next_hour() -> datetime:
    """An hour boundary one to two hours ahead: the real clock does not reach it during the test."""
    return (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)


def digest_set(encore: Encore, member: Member, channel: Channel, at: datetime, **more: Any) -> dict[str, Any]:
    options = {"channel": channel, "day": at.weekday(), "hour": at.hour}
    # Set on the real clock: a digest is never due for an hour before it was set.
    encore.app.digests.clock = lambda: datetime.now(UTC)
    record = encore.command(member, "encore", options, subcommand="digest set", **more)
    return record.final_message()


def set_clock(encore: Encore, now: datetime) -> None:
    encore.app.digests.clock = lambda: now


def run_due_check(encore: Encore, now: datetime) -> list[Any]:
    """What the bot's digest loop does on a pass, at `now`."""
    set_clock(encore, now)
    return encore.run(encore.bot.get_cog("Admin").post_due_digests(), 60)


def posts_in(encore: Encore, channel: Channel) -> list[dict[str, Any]]:
    return encore.call(lambda: list(encore.emulator.state.messages.in_channel(channel.id)))


def new_channel(encore: Encore, name: str, **options: Any) -> Channel:
    channel = encore.call(encore.emulator.add_text_channel, encore.guild, name, **options)
    encore.until(lambda: encore.bot.get_channel(channel.id) is not None, what=f"the bot to see #{name}")
    return channel


def test_digest_commands_are_registered_under_encore(encore: Encore) -> None:
    registered = encore.emulator.commands(encore.guild) or encore.emulator.commands()
    admin = next(c for c in registered if c["name"] == "encore" and c["type"] == 1)
    group = next(o for o in admin["options"] if o["name"] == "digest")
    assert group["type"] == 2 and {o["name"] for o in group["options"]} == {"set", "off", "show"}
    options = {o["name"]: o for o in next(o for o in group["options"] if o["name"] == "set")["options"]}
    assert all(o["required"] for o in options.values())
    assert options["channel"]["type"] == 7 and 0 in options["channel"]["channel_types"]
    assert [(c["name"], c["value"]) for c in options["day"]["choices"]] == list(zip(WEEKDAYS, range(7), strict=True))
    assert (options["hour"]["min_value"], options["hour"]["max_value"]) == (0, 23)


def test_the_digest_posts_a_blend_and_rising_artists_once_a_week(encore: Encore) -> None:
    mod = encore.member("mod", manage_guild=True)
    channel = new_channel(encore, "weekly")
    at = next_hour()
    saved = digest_set(encore, mod, channel, at)
    assert saved["ephemeral"] and saved["content"].startswith("Saved.")
    assert (
        f"<#{channel.id}>" in saved["content"]
        and f"every {WEEKDAYS[at.weekday()]} at {at.hour:02d}:00 UTC" in (saved["content"])
    )
    ana, bo, cy, shy = (encore.member(n) for n in ("ana", "bo", "cy", "shy"))
    like(encore, ana, *ART_POP, "Boards of Canada")
    like(encore, bo, *METAL, "Boards of Canada")
    like(encore, cy, "Muse", "Boards of Canada")
    like(encore, shy, "Autechre")
    encore.command(shy, "privacy", {"setting": "private"})

    # Before the hour nothing is due; just after it, one post.
    assert run_due_check(encore, at - timedelta(minutes=1)) == []
    assert posts_in(encore, channel) == []
    (digest,) = run_due_check(encore, at + timedelta(minutes=1))
    assert digest.active == 3 and digest.blended == 3, "the private member is neither blended nor counted"
    (post,) = posts_in(encore, channel)
    assert post["author"]["id"] == str(encore.emulator.state.bot_user.id) and not post["mentions"]
    embed = post["embeds"][0]
    assert embed["title"] == "This week in Encore E2E"
    blend, rising = embed["description"].split("**Rising this week**")
    assert "A blend for the 3 members active this week" in blend
    picked = blend.count("](https://www.last.fm/")
    assert picked == 8
    liked = set(ART_POP + METAL) | {"Muse", "Boards of Canada"}
    assert not any(f"[{name}](" in blend for name in liked), "only artists new to everyone blended"
    assert "▲ [Boards of Canada](" in rising and "— 3 members (new)" in rising
    assert "Autechre" not in rising, "a private member's likes are not shown"
    assert "private" in embed["footer"]["text"] and not raw_mentions(post)
    for member in (ana, bo, cy, shy):
        assert member.user.username not in text_of(post), "nobody is named"

    # The same week again, later that day, or set again: nothing more.
    assert run_due_check(encore, at + timedelta(minutes=6)) == []
    assert run_due_check(encore, at + timedelta(hours=5)) == []
    digest_set(encore, mod, channel, at)
    assert run_due_check(encore, at + timedelta(hours=6)) == []
    assert len(posts_in(encore, channel)) == 1
    shown = encore.command(mod, "encore", subcommand="digest show").final_message()
    assert shown["ephemeral"] and f"<#{channel.id}>" in shown["content"] and "last posted" in shown["content"]
    encore.command(mod, "encore", subcommand="digest off")


def test_a_week_with_nobody_active_posts_nothing(encore: Encore) -> None:
    mod = encore.member("mod", manage_guild=True)
    channel = new_channel(encore, "quiet-week")
    at = next_hour()
    digest_set(encore, mod, channel, at)
    # Three weeks on, this module's likes are all older than a week.
    assert run_due_check(encore, at + timedelta(days=21, minutes=1)) == []
    assert posts_in(encore, channel) == []
    encore.command(mod, "encore", subcommand="digest off")


def test_the_schedule_survives_a_restart_and_still_posts_once(encore: Encore) -> None:
    mod = encore.member("mod", manage_guild=True)
    channel = new_channel(encore, "after-restart")
    at = next_hour()
    digest_set(encore, mod, channel, at)
    like(encore, encore.member("dee"), *ART_POP)
    like(encore, encore.member("eli"), "Daft Punk", "Justice")

    restart_bot(encore)
    schedule = encore.run(encore.app.digests.schedule(encore.guild.id))
    assert schedule is not None and (schedule.channel_id, schedule.weekday, schedule.hour) == (
        channel.id,
        at.weekday(),
        at.hour,
    )
    assert len(run_due_check(encore, at + timedelta(minutes=2))) == 1
    assert len(posts_in(encore, channel)) == 1

    # Posted before the restart: the new bot does not post it again.
    restart_bot(encore)
    assert run_due_check(encore, at + timedelta(minutes=7)) == []
    assert len(posts_in(encore, channel)) == 1
    # The digest loop runs in the restarted bot too.
    task = encore.bot.get_cog("Admin")._digest_task
    assert task is not None and not task.done()
    encore.command(mod, "encore", subcommand="digest off")


def test_off_stops_the_digest(encore: Encore) -> None:
    mod = encore.member("mod", manage_guild=True)
    channel = new_channel(encore, "stopped")
    at = next_hour()
    digest_set(encore, mod, channel, at)
    like(encore, encore.member("fay"), *METAL)
    like(encore, encore.member("gus"), *ART_POP)
    stopped = encore.command(mod, "encore", subcommand="digest off").final_message()
    assert stopped["ephemeral"] and stopped["content"].startswith("Stopped")
    assert run_due_check(encore, at + timedelta(minutes=1)) == []
    assert posts_in(encore, channel) == []
    again = encore.command(mod, "encore", subcommand="digest off").final_message()
    assert again["ephemeral"] and "no weekly digest" in again["content"]
    shown = encore.command(mod, "encore", subcommand="digest show").final_message()
    assert shown["ephemeral"] and "No weekly digest here" in shown["content"]


def test_a_member_without_manage_server_is_refused(encore: Encore) -> None:
    member = encore.member("plain")
    channel = new_channel(encore, "not-yours")
    at = next_hour()
    # Discord's client does not offer /encore to them at all...
    with pytest.raises(PermissionError):
        digest_set(encore, member, channel, at)
    # ...and a request sent by hand is refused in code.
    for subcommand, options in [("digest set", None), ("digest off", {}), ("digest show", {})]:
        if options is None:
            refused = digest_set(encore, member, channel, at, crafted=True)
        else:
            refused = encore.command(member, "encore", options, subcommand=subcommand, crafted=True).final_message()
        assert refused["ephemeral"] and "Manage Server" in refused["content"], (subcommand, refused)
    assert encore.run(encore.app.digests.schedule(encore.guild.id)) is None


def test_bad_options_and_a_channel_encore_cannot_post_in_are_refused(encore: Encore) -> None:
    mod = encore.member("mod", manage_guild=True)
    bot_id = encore.emulator.state.bot_user.id
    muted = new_channel(
        encore, "muted", overwrites=[{"id": str(bot_id), "type": 1, "allow": "0", "deny": str(SEND_MESSAGES)}]
    )
    at = next_hour()
    refused = digest_set(encore, mod, muted, at)
    assert refused["ephemeral"] and "cannot post in" in refused["content"] and "Send Messages" in refused["content"]
    channel = new_channel(encore, "fine")
    for bad in ({"hour": 24}, {"hour": -1}, {"day": 7}):
        options = {"channel": channel, "day": at.weekday(), "hour": at.hour} | bad
        message = encore.command(mod, "encore", options, subcommand="digest set", crafted=True).final_message()
        assert message["ephemeral"] and message["content"].startswith("⚠️"), (bad, message)
    assert encore.run(encore.app.digests.schedule(encore.guild.id)) is None


def test_zz_every_request_pinged_nobody_and_matches_the_openapi_spec(encore: Encore) -> None:
    """Last in the module: every REST request the bot made, the digests posted included."""
    requests = encore.requests()
    posted = [r for r in requests if r.method == "POST" and r.path.endswith("/messages") and "/channels/" in r.path]
    assert len(posted) >= 2, "the digests were posted with the bot token"
    assert_every_request_clean(requests)
