"""A real discord.py ``commands.Bot`` with a small cog, run against the emulator with hard timeouts.

Each test gets a fresh event loop (``run``), a fresh emulator and a fresh bot (``running_bot``), and the
harness checks that the bot and emulator left no task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from discord_emulator import Channel, DiscordEmulator, Guild, Member

REPO_ROOT = Path(__file__).resolve().parents[2]

#: No single test may take longer than this, whatever hangs.
TEST_TIMEOUT = 30.0


def run(scenario: Callable[[], Awaitable[Any]], timeout: float = TEST_TIMEOUT) -> Any:
    """Run a scenario on a new event loop, failing (not hanging) after ``timeout`` and on leaked tasks."""

    async def guarded() -> Any:
        result = await asyncio.wait_for(scenario(), timeout)
        await _assert_no_leaked_tasks()
        return result

    return asyncio.run(guarded())


async def eventually(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> None:
    """Wait until ``condition()`` is true; ``timeout`` only guards against a hang, it is not a speed limit."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.01)


async def _assert_no_leaked_tasks(grace: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while True:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if not others or loop.time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert not others, f"tasks left running: {others}"


class ProbeCog(commands.Cog):
    """Commands exercising each interaction path the real bot will use."""

    def __init__(self) -> None:
        self.seen_members: list[Any] = []
        self.modal_values: list[str] = []
        self.errors: list[BaseException] = []

    @app_commands.command(description="Repeat some text")
    @app_commands.describe(text="What to repeat")
    async def echo(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"echo: {text}")

    @echo.autocomplete("text")
    async def echo_text(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current} {n}", value=f"{current}-{n}") for n in ("one", "two", "three")]

    @app_commands.command(name="defer", description="Think, follow up, then edit")
    async def defer_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("working...")
        await interaction.edit_original_response(content="done")
        await interaction.followup.send("and one more thing", ephemeral=True)

    @app_commands.command(description="Reply with a button")
    async def button(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press it", view=PressView())

    @app_commands.command(description="Reply with a select menu")
    async def menu(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=GenreView(), ephemeral=True)

    @app_commands.command(description="Describe a member")
    async def whois(self, interaction: discord.Interaction, member: discord.Member) -> None:
        self.seen_members.append(member)
        voice = member.voice.channel.name if member.voice and member.voice.channel else "no voice"
        await interaction.response.send_message(f"{member.name} ({len(member.roles)} roles, {voice})")

    async def describe_member(self, interaction: discord.Interaction, member: discord.Member | discord.User) -> None:
        """The "Describe" user command (right-click a member), added to the tree by EncoreTestBot."""
        self.seen_members.append(member)
        roles = len(member.roles) if isinstance(member, discord.Member) else "no"
        await interaction.response.send_message(f"{member.name} ({roles} roles)", ephemeral=True)

    @app_commands.command(description="A secret")
    async def secret(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("psst", ephemeral=True)

    @app_commands.command(description="Moderators only")
    @app_commands.default_permissions(manage_guild=True)
    async def admin(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"manage_guild={interaction.permissions.manage_guild}")

    @app_commands.command(description="Add numbers")
    @app_commands.choices(scale=[app_commands.Choice(name="one", value=1), app_commands.Choice(name="ten", value=10)])
    async def add(
        self, interaction: discord.Interaction, a: int, b: float, scale: int = 1, negate: bool = False
    ) -> None:
        total = (a + b) * scale
        await interaction.response.send_message(f"sum={-total if negate else total}")

    playlist = app_commands.Group(name="playlist", description="Playlist things")

    @playlist.command(name="add", description="Add a track")
    async def playlist_add(self, interaction: discord.Interaction, track: str) -> None:
        await interaction.response.send_message(
            f"added {track}", embed=discord.Embed(title="Playlist", description=track)
        )

    @app_commands.command(description="Open a form")
    async def rate(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(RateModal(self))

    @app_commands.command(description="Send a file")
    async def upload(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("here", file=discord.File(io.BytesIO(b"hello file"), "hello.txt"))

    @app_commands.command(description="Too slow to answer")
    async def sleepy(self, interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.5)
        try:
            await interaction.response.send_message("finally")
        except discord.NotFound as exc:
            self.errors.append(exc)


class PressView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Press", style=discord.ButtonStyle.primary, custom_id="press")
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"pressed by {interaction.user.name}", view=None)
        self.stop()  # also ends the view's timeout task, which bot.close() would not


class GenreView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.select(
        custom_id="genres",
        max_values=2,
        options=[discord.SelectOption(label=g, value=g.lower()) for g in ("Jazz", "Techno", "Folk")],
    )
    async def genres(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        # A silent acknowledgement (type 6), then an edit of the message the menu is on.
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"chose {', '.join(select.values)}", view=None)
        self.stop()


class RateModal(discord.ui.Modal, title="Rate the track"):
    score: discord.ui.TextInput[RateModal] = discord.ui.TextInput(label="Score", custom_id="score", max_length=2)

    def __init__(self, cog: ProbeCog) -> None:
        super().__init__()
        self.cog = cog

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.cog.modal_values.append(self.score.value)
        await interaction.response.send_message(f"rated {self.score.value}", ephemeral=True)


class EncoreTestBot(commands.Bot):
    """Adds the cog and syncs the commands to the test guild in ``setup_hook``, as the real bot will."""

    def __init__(self, guild_id: int, **options: Any) -> None:
        intents = options.pop("intents", None) or discord.Intents.default()
        # guild_ready_timeout only shortens discord.py's wait for more GUILD_CREATEs after READY (2 s default).
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.2, **options)
        self.cog = ProbeCog()
        self.guild_id = guild_id
        self.synced: list[app_commands.AppCommand] = []
        self.resumed = asyncio.Event()

    async def setup_hook(self) -> None:
        await self.add_cog(self.cog)
        self.tree.add_command(app_commands.ContextMenu(name="Describe", callback=self.cog.describe_member))
        guild = discord.Object(id=self.guild_id)
        self.tree.copy_global_to(guild=guild)
        self.synced = await self.tree.sync(guild=guild)

    async def on_resumed(self) -> None:
        self.resumed.set()


@dataclass
class World:
    emulator: DiscordEmulator
    guild: Guild
    general: Channel
    lounge: Channel
    alice: Member
    mod: Member
    listener: Member
    bot: EncoreTestBot | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def cog(self) -> ProbeCog:
        assert self.bot is not None
        return self.bot.cog


def build_world(emulator: DiscordEmulator) -> World:
    guild = emulator.add_guild("Encore Test Server")
    general = emulator.add_text_channel(guild, "general")
    lounge = emulator.add_voice_channel(guild, "Listening Room")
    alice = emulator.add_member(guild, "alice", global_name="Alice")
    mod = emulator.add_member(guild, "mod", manage_guild=True)
    listener = emulator.add_member(guild, "listener")
    emulator.join_voice(guild, listener, lounge)
    return World(emulator, guild, general, lounge, alice, mod, listener)


@contextlib.asynccontextmanager
async def emulator_only(**options: Any) -> AsyncIterator[World]:
    emulator = DiscordEmulator(**options)
    world = build_world(emulator)
    await emulator.start()
    try:
        yield world
    finally:
        await emulator.stop()


@contextlib.asynccontextmanager
async def running_bot(
    *, intents: discord.Intents | None = None, ready_timeout: float = 10.0, **emulator_options: Any
) -> AsyncIterator[World]:
    """Emulator + world + a logged-in, ready EncoreTestBot; everything torn down on exit."""
    async with emulator_only(**emulator_options) as world:
        emulator = world.emulator
        with emulator.point_client_here():
            bot = EncoreTestBot(world.guild.id, intents=intents or default_intents())
            world.bot = bot
            world.task = asyncio.create_task(bot.start(emulator.token), name="test-bot")
            try:
                await _wait_ready(bot, world.task, ready_timeout)
                yield world
            finally:
                await bot.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(world.task, 10)
        assert not emulator.internal_errors, "\n".join(emulator.internal_errors)


def default_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.members = True
    return intents


async def _wait_ready(bot: commands.Bot, task: asyncio.Task[None], timeout: float) -> None:
    """Wait for on_ready, but surface the bot task's exception at once if it dies first."""
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready
    if task in done:
        task.result()  # raises what killed the bot
        raise AssertionError("the bot stopped before it became ready")
    if not done:
        raise AssertionError(f"the bot was not ready within {timeout}s")


def with_running_bot(**options: Any) -> Callable[[Callable[[World], Awaitable[None]]], Callable[[], None]]:
    """Make ``async def test_x(world)`` a plain test that runs inside ``running_bot(**options)``."""

    def decorate(body: Callable[[World], Awaitable[None]]) -> Callable[[], None]:
        def test() -> None:
            async def scenario() -> None:
                async with running_bot(**options) as world:
                    await body(world)

            run(scenario)

        test.__name__, test.__qualname__, test.__doc__ = body.__name__, body.__qualname__, body.__doc__
        return test

    return decorate
