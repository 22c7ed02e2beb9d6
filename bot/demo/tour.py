"""The scripted tour `encore demo` plays: three members' likes, then the commands a server would try first."""

from __future__ import annotations

from typing import Any

from bot.demo.driver import DemoDriver
from bot.demo.render import controls_of, plain, render

#: Who the demo's members are, and what they like.
MEMBERS = {
    "ana": ["Radiohead", "Björk", "Portishead", "Massive Attack"],
    "bo": ["Daft Punk", "Justice", "Gorillaz"],
    "cy": ["Metallica", "Iron Maiden", "Megadeth"],
}
#: How ana, bo and cy vote on the session's first picks (then the newcomer joins, and they vote once more).
SESSION_VOTES = (
    ("Into it", "Into it", "Not for me"),
    ("Not for me", "Into it", "Into it"),
    ("Into it", "Not for me", "Into it"),
)
NEWCOMER = "dee"
#: What dee picks in /start: three music types, then eight artists from the menu it offers.
START_TYPES = ("rock", "electronic", "hip-hop")
START_ARTISTS = ("Daft Punk", "Radiohead", "Muse", "Gorillaz", "Linkin Park", "Kanye West", "Eminem", "Moby")
TYPES_MENU, ARTISTS_MENU = "🎵", "🎤"


async def seed_likes(demo: DemoDriver, *, show: bool) -> None:
    for name, artists in MEMBERS.items():
        for artist in artists:
            await demo.command(demo.member(name), f"/like artist:{artist}", show=False)
        if show:
            demo.say(f"{name} liked {', '.join(artists)}.")


async def play_tour(demo: DemoDriver) -> None:
    await seed_likes(demo, show=True)
    await shown(demo, "ana", "/recommend count:5")
    await shown(demo, "bo", "/similar artist:Daft Punk count:5")
    await shown(demo, "ana", "/why artist:Sigur Rós")
    await shown(demo, "ana", "/blend member1:bo member2:cy count:5")
    taste = await shown(demo, "ana", "/taste member:bo", picture=True)
    if taste is not None:
        demo.save_pictures(taste)
    await shown(demo, "cy", "/whoknows artist:Radiohead")
    await play_start(demo)
    await play_session(demo)
    await shown(demo, "you", "/encore status")
    demo.say(
        "\nThat was the real bot talking to a local Discord emulator. "
        "Try `encore demo --interactive`, or see the README to run it on Discord."
    )


async def shown(demo: DemoDriver, name: str, line: str, *, picture: bool = False) -> dict[str, Any] | None:
    demo.say(f"\n{name}> {line}")
    return await demo.command(demo.member(name), line, picture=picture)


async def play_start(demo: DemoDriver) -> None:
    """dee is new: /start, three music types, eight artists from the menu, and the first recommendations."""
    demo.say(f"\n{NEWCOMER} is new here and has liked nothing yet.")
    types = await shown(demo, NEWCOMER, "/start")
    if types is None:
        return
    artists = await demo.choose(demo.member(NEWCOMER), types, TYPES_MENU, list(START_TYPES), len(START_TYPES))
    if artists is None or not any((i.get("placeholder") or "").startswith(ARTISTS_MENU) for i in controls_of(artists)):
        return
    await demo.choose(demo.member(NEWCOMER), artists, ARTISTS_MENU, list(START_ARTISTS), len(START_ARTISTS))


async def play_session(demo: DemoDriver) -> None:
    """ana, bo and cy in a voice channel vote on a few picks; dee joins; ana ends it and the recap arrives."""
    lounge = demo.emulator.add_voice_channel(demo.guild, "Lounge")
    for name in MEMBERS:
        demo.emulator.join_voice(demo.guild, demo.member(name), lounge)
    demo.say("\nana, bo and cy are in the voice channel Lounge.")
    await shown(demo, "ana", "/session start")
    await demo.wait_for(lambda: panel_of(demo) is not None)
    panel_id = panel_of(demo)
    if panel_id is None:
        demo.say("  (no session panel appeared)")
        return
    for round_number, votes in enumerate(SESSION_VOTES, start=1):
        if round_number == len(SESSION_VOTES):
            demo.emulator.join_voice(demo.guild, demo.member(NEWCOMER), lounge)
            demo.say(f"\n{NEWCOMER} joins Lounge.")
            await demo.wait_for(lambda: "joined" in render(demo.message(panel_id)))
        message = demo.message(panel_id)
        before = now_playing(message)
        demo.say(f"\nThe panel:\n{render(message)}")
        for name, vote in zip(MEMBERS, votes):
            await demo.press_label(demo.member(name), demo.message(panel_id), vote)
        demo.say("Votes: " + ", ".join(f"{name} {vote}" for name, vote in zip(MEMBERS, votes)))
        await demo.wait_for(lambda before=before: now_playing(demo.message(panel_id)) != before)
    demo.say("\nana presses End.")
    await demo.press_label(demo.member("ana"), demo.message(panel_id), "End")
    await demo.wait_for(lambda: "recap" in render(demo.message(panel_id)).lower())
    # The picture is drawn after the recap text: wait for it, but show the recap even if it never comes.
    await demo.wait_for(lambda: bool(demo.message(panel_id).get("attachments")), timeout=20)
    recap = demo.message(panel_id)
    demo.say(render(recap))
    demo.save_pictures(recap)
    for name in (*MEMBERS, NEWCOMER):
        demo.emulator.leave_voice(demo.guild, demo.member(name))


def panel_of(demo: DemoDriver) -> int | None:
    """The newest session panel in the demo's text channel (the message with an "Into it" button)."""
    panels = [
        stored.payload
        for stored in demo.emulator.state.messages.values()
        if not stored.deleted
        and int(stored.payload.get("channel_id") or 0) == demo.channel.id
        and any(item.get("label") == "Into it" for item in controls_of(stored.payload))
    ]
    return max((int(p["id"]) for p in panels), default=None)


def now_playing(message: dict[str, Any]) -> str:
    lines = (line for line in render(message).splitlines() if "Now:" in line)
    return plain(next(lines, ""))
