"""The end-to-end harness: the real EncoreBot, with real services, against the local Discord emulator.

One emulator and one bot per test module (starting costs a data load and a model fit). They live on
an event loop of their own in a background thread; tests drive them from pytest's thread through
``Encore.run``/``Encore.call``, which submit to that loop and wait with a timeout, so nothing can hang.
tests/bot/e2e/conftest.py turns it into the module-scoped ``encore`` fixture.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.app import App, build_app
from bot.client import EncoreBot
from bot.settings import Settings
from discord_emulator import (
    Channel,
    ClientRedirect,
    DiscordEmulator,
    Guild,
    InteractionRecord,
    Member,
    RecordedRequest,
    User,
)
from fake_lastfm import FakeLastFm

T = TypeVar("T")


# -- an event loop in a thread ---------------------------------------------------------------------


class LoopThread:
    """An asyncio loop running forever in a daemon thread; ``run`` waits for a coroutine with a timeout."""

    def __init__(self, name: str = "encore-e2e-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test event loop did not start")

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise AssertionError(f"timed out after {timeout}s waiting for {coro!r}") from None

    def close(self, timeout: float = 15.0) -> None:
        """Cancel whatever is left on the loop, stop it and join the thread."""

        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout / 2)

        if self.loop.is_running():
            with contextlib.suppress(Exception):
                self.run(cancel_the_rest(), timeout)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            self.loop.close()


@contextlib.contextmanager
def emulator_in_a_thread(name: str) -> Iterator[tuple[LoopThread, DiscordEmulator]]:
    """A started emulator on its own loop thread, for bots that run as subprocesses; stopped after."""
    loop = LoopThread(name)
    try:

        async def start() -> DiscordEmulator:
            emulator = DiscordEmulator()
            await emulator.start()
            return emulator

        emulator = loop.run(start(), 30)
        try:
            yield loop, emulator
        finally:
            loop.run(emulator.stop(), 30)
    finally:
        loop.close()


@contextlib.contextmanager
def fake_lastfm_in_a_thread(**options: Any) -> Iterator[FakeLastFm]:
    """A started fake Last.fm (`options` as `FakeLastFm` takes them) on its own loop thread; stopped after."""
    loop = LoopThread("fake-lastfm")
    fake = FakeLastFm(**options)
    loop.run(fake.start())
    try:
        yield fake
    finally:
        loop.run(fake.stop())
        loop.close()


# -- what the bot logs -----------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Keeps every ERROR (and worse) record of the loggers it is attached to."""

    LOGGERS = ("discord", "bot")

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)

    def describe(self, records: list[logging.LogRecord]) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s: %(message)s")
        return "\n".join(formatter.format(r) for r in records)

    def attach(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)


# -- the harness -----------------------------------------------------------------------------------


def answered(record: InteractionRecord) -> bool:
    """The bot answered: autocomplete choices, or a message that is no longer "thinking…"."""
    if record.rejections:
        return True
    if record.callback is None:
        return False
    if record.callback_type == 8:
        return True
    try:
        return not record.final_message()["loading"]
    except LookupError:
        return record.callback_type == 6  # a deferred update with no message of its own


@dataclass
class Encore:
    """The running bot and emulator, and ways to drive them from the test's thread."""

    loop: LoopThread
    emulator: DiscordEmulator
    guild: Guild
    channel: Channel
    bot: EncoreBot
    app: App
    errors: ErrorLog
    redirect: ClientRedirect
    task: asyncio.Task[None] | None = None
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- running things on the bot's loop ---------------------------------------------------------

    def run(self, coro: Awaitable[T], timeout: float = 30.0) -> T:
        return self.loop.run(coro, timeout)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A plain function, run on the bot's loop (the emulator's state is not thread-safe)."""

        async def wrapper() -> T:
            return fn(*args, **kwargs)

        return self.run(wrapper(), 10)

    def until(self, predicate: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
        """Wait (on the bot's loop, so the state is read there) until ``predicate()`` holds."""

        async def poll() -> bool:
            deadline = asyncio.get_running_loop().time() + timeout
            while not predicate():
                if asyncio.get_running_loop().time() > deadline:
                    return False
                await asyncio.sleep(0.02)
            return True

        assert self.run(poll(), timeout + 5), f"timed out after {timeout}s waiting for {what}"

    # -- the world ---------------------------------------------------------------------------------

    def member(self, prefix: str = "member", *, manage_guild: bool = False) -> Member:
        """A fresh member, so that no test sees another's likes."""
        name = f"{prefix}{next(self._numbers)}"
        return self.call(self.emulator.add_member, self.guild, name, manage_guild=manage_guild)

    def requests(self) -> list[RecordedRequest]:
        return self.call(lambda: list(self.emulator.requests))

    # -- driving the bot ---------------------------------------------------------------------------

    def command(
        self,
        member: Member,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        timeout: float = 15.0,
        crafted: bool = False,
        in_dm: bool = False,
    ) -> InteractionRecord:
        """Run a slash command and wait for its answer (a deferred one: until it is no longer loading).

        `crafted` and `in_dm`: a request Discord's client would not send (see `DiscordEmulator.invoke`)."""

        async def go() -> InteractionRecord:
            record = await self.emulator.invoke(
                self.guild, self.channel, member, name, options or {}, subcommand, crafted=crafted, in_dm=in_dm
            )
            await record.wait_until(answered, timeout)
            return record

        return self._checked(self.run(go(), timeout + 5))

    def user_command(
        self,
        member: Member,
        name: str,
        target: Member | User,
        *,
        timeout: float = 15.0,
        crafted: bool = False,
        in_dm: bool = False,
    ) -> InteractionRecord:
        """Right-click `target`, pick the user command `name` (Apps → name) and wait for its answer."""

        async def go() -> InteractionRecord:
            record = await self.emulator.invoke_user_command(
                self.guild, self.channel, member, name, target, crafted=crafted, in_dm=in_dm
            )
            await record.wait_until(answered, timeout)
            return record

        return self._checked(self.run(go(), timeout + 5))

    def autocomplete(
        self, member: Member, name: str, option: str, value: str, *, timeout: float = 5.0
    ) -> InteractionRecord:
        async def go() -> InteractionRecord:
            record = await self.emulator.autocomplete(self.guild, self.channel, member, name, option, value)
            await record.wait_until(answered, timeout)
            return record

        return self._checked(self.run(go(), timeout + 5))

    def click(
        self,
        record: InteractionRecord | dict[str, Any],
        custom_id: str,
        member: Member,
        *,
        values: list[str] | None = None,
        timeout: float = 15.0,
        crafted: bool = False,
    ) -> InteractionRecord:
        """Press a button (or choose ``values`` in a select menu) and wait for the bot's answer.

        `crafted`: a click Discord's client would not send (see `DiscordEmulator.click`)."""

        async def go() -> InteractionRecord:
            clicked = await self.emulator.click(record, custom_id, member, values=values, crafted=crafted)
            await clicked.wait_until(answered, timeout)
            return clicked

        return self._checked(self.run(go(), timeout + 5))

    @staticmethod
    def _checked(record: InteractionRecord) -> InteractionRecord:
        assert not record.rejections, f"the emulator refused the bot's answer: {record.rejections}"
        return record

    # -- the store, read directly ------------------------------------------------------------------

    def liked_ids(self, member: Member) -> set[int]:
        rows = self.run(self.app.store.likes.likes_of(member.id))
        return {row.artist_id for row in rows}

    def artist_id(self, name: str) -> int:
        artist = self.app.models.catalogue.lookup(name)
        assert artist is not None, f"{name!r} is not in the catalogue"
        return artist.artist_id


def like(encore: Encore, member: Member, *names: str) -> None:
    """`member` likes each artist by /like, one command each; each is liked now or was already."""
    for name in names:
        content = encore.command(member, "like", {"artist": name}).final_message()["content"]
        assert content.startswith(("Noted: you like", "You already like")), content


async def start_ready(bot: EncoreBot, token: str) -> asyncio.Task[None]:
    """Log `bot` in and wait until it is ready; the task running it (raises what stopped it, if it did)."""
    task = asyncio.create_task(bot.start(token), name="encore-e2e-bot")
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        task.cancel()
        raise AssertionError("the bot was not ready within 60 s")
    return task


async def start_encore(settings: Settings, errors: ErrorLog, loop: LoopThread) -> Encore:
    emulator = DiscordEmulator()
    await emulator.start()
    redirect = emulator.point_client_here()
    app: App | None = None
    bot: EncoreBot | None = None
    task: asyncio.Task[None] | None = None
    try:
        guild = emulator.add_guild("Encore E2E")
        channel = emulator.add_text_channel(guild, "music")
        app = await build_app(settings)
        bot = EncoreBot(app)
        task = await start_ready(bot, emulator.token)
        return Encore(loop, emulator, guild, channel, bot, app, errors, redirect, task)
    except BaseException:
        if bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.close(), 30)  # closes the app too
        elif app is not None:
            with contextlib.suppress(Exception):
                await app.close()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await emulator.stop()
        redirect.restore()
        raise


async def stop_encore(harness: Encore) -> None:
    try:
        await asyncio.wait_for(harness.bot.close(), 30)
        if harness.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(harness.task, 15)
    finally:
        await harness.emulator.stop()
        harness.redirect.restore()
