"""End-to-end harness: the real EncoreBot, with real services, against the local Discord emulator.

One emulator and one bot per test module (starting costs a data load and a model fit). They live on
an event loop of their own in a background thread; tests drive them from pytest's thread through
``Encore.run``/``Encore.call``, which submit to that loop and wait with a timeout, so nothing can hang.

The store is a real SQLite file in the module's temporary folder, or the PostgreSQL database named by
``ENCORE_TEST_DATABASE_URL`` (emptied before and after, see tests.support.throwaway_database).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

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
    OpenAPIValidator,
    RecordedRequest,
)
from tests.support import openapi_spec_path, throwaway_database  # noqa: F401  (test modules import the spec path from here)

T = TypeVar("T")


#: Slash commands the bot must register (the top-level names; /encore has subcommands).
EXPECTED_COMMANDS = {
    "like",
    "unlike",
    "likes",
    "recommend",
    "similar",
    "why",
    "forget-me",
    "privacy",
    "encore",
    "lastfm",
    "blend",
    "taste",
    "neighbours",
    "trending",
    "genres",
}
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6

#: Mention syntax Discord would render (and, allowed, ping): @everyone/@here and <@id>, <@!id>, <@&id>.
RAW_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>")


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
    services: App
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
        rows = self.run(self.services.store.likes.likes_of(member.id))
        return {row.artist_id for row in rows}

    def artist_id(self, name: str) -> int:
        artist = self.services.models.catalogue.lookup(name)
        assert artist is not None, f"{name!r} is not in the catalogue"
        return artist.artist_id


async def _start(settings: Settings, errors: ErrorLog, loop: LoopThread) -> Encore:
    emulator = DiscordEmulator()
    await emulator.start()
    redirect = emulator.point_client_here()
    services: App | None = None
    bot: EncoreBot | None = None
    task: asyncio.Task[None] | None = None
    try:
        guild = emulator.add_guild("Encore E2E")
        channel = emulator.add_text_channel(guild, "music")
        services = await build_app(settings)
        bot = EncoreBot(services)
        task = asyncio.create_task(bot.start(emulator.token), name="encore-e2e-bot")
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # raises what stopped the bot
            raise AssertionError("the bot was not ready within 60 s")
        return Encore(loop, emulator, guild, channel, bot, services, errors, redirect, task)
    except BaseException:
        if bot is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.close(), 30)  # closes the services too
        elif services is not None:
            with contextlib.suppress(Exception):
                await services.close()
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await emulator.stop()
        redirect.restore()
        raise


async def _stop(harness: Encore) -> None:
    try:
        await asyncio.wait_for(harness.bot.close(), 30)
        if harness.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(harness.task, 15)
    finally:
        await harness.emulator.stop()
        harness.redirect.restore()


@pytest.fixture(scope="module")
def encore_env() -> dict[str, str]:
    """More environment for the module's bot (a module overrides this, e.g. to add a Last.fm key)."""
    return {}


@pytest.fixture(scope="module")
def encore(lastfm_dir: Path, tmp_path_factory: pytest.TempPathFactory, encore_env: dict[str, str]) -> Iterator[Encore]:
    """The real bot (real data, real store, real model) logged in to a fresh emulator, for one module."""
    home = tmp_path_factory.mktemp("encore-e2e")
    errors = ErrorLog()
    errors.attach()
    loop = LoopThread()
    try:
        with throwaway_database(home / "encore.sqlite3") as url:
            assert url is not None
            settings = Settings.from_env(
                {"ENCORE_HOME": str(home), "ENCORE_LASTFM_DIR": str(lastfm_dir), "ENCORE_DATABASE_URL": url}
                | encore_env
            )
            harness = loop.run(_start(settings, errors, loop), timeout=180)
            try:
                yield harness
            finally:
                loop.run(_stop(harness), timeout=60)
    finally:
        loop.close()
        errors.detach()


@pytest.fixture(autouse=True)
def _nothing_crashed(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that drives the bot: no ERROR logged by discord.py or Encore, no emulator crash."""
    if "encore" not in request.fixturenames:
        yield
        return
    harness: Encore = request.getfixturevalue("encore")
    logged, crashed = len(harness.errors.records), len(harness.emulator.internal_errors)
    yield
    new_logged = harness.errors.records[logged:]
    new_crashes = harness.emulator.internal_errors[crashed:]
    assert not new_logged, "the bot logged errors:\n" + harness.errors.describe(new_logged)
    assert not new_crashes, "the emulator crashed:\n" + "\n".join(new_crashes)


# -- reading messages ------------------------------------------------------------------------------


def texts(message: dict[str, Any]) -> list[str]:
    """Every piece of text a member reads in a message: content and the embeds' texts."""
    out = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        out += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            out += [item.get("name") or "", item.get("value") or ""]
        out.append((embed.get("footer") or {}).get("text") or "")
        out.append((embed.get("author") or {}).get("name") or "")
    return [t for t in out if t]


def text_of(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's interactive components (buttons and selects), flattened."""
    found: list[dict[str, Any]] = []

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("custom_id"):
                found.append(item)
            visit(item.get("components") or [])

    visit(message.get("components") or [])
    return found


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    matches = [c for c in components(message) if c.get("type") == 2 and c.get("label") == label]
    assert matches, f"no button {label!r}; buttons: {[c.get('label') for c in components(message)]}"
    return matches[0]


def select(message: dict[str, Any], placeholder_start: str) -> dict[str, Any]:
    matches = [
        c
        for c in components(message)
        if c.get("type") == 3 and (c.get("placeholder") or "").startswith(placeholder_start)
    ]
    assert matches, (
        f"no select starting {placeholder_start!r}; selects: {[c.get('placeholder') for c in components(message)]}"
    )
    return matches[0]


def raw_mentions(message: dict[str, Any]) -> list[str]:
    """Mention syntax left unescaped in what a member reads."""
    return [m.group(0) for text in texts(message) for m in RAW_MENTION.finditer(text)]


# -- checks over every recorded request ------------------------------------------------------------

_MESSAGE_ROUTES = re.compile(
    r"/interactions/[^/]+/[^/]+/callback$|/webhooks/[^/]+/[^/]+(/messages/[^/]+)?$|/channels/\d+/messages(/\d+)?$"
)


def mention_problems(requests: list[RecordedRequest]) -> list[str]:
    """Message bodies the bot sent that could ping: content or embeds without ``allowed_mentions.parse == []``."""
    problems = []
    for request in requests:
        if request.method not in ("POST", "PATCH") or not _MESSAGE_ROUTES.search(request.path):
            continue
        body = request.json if isinstance(request.json, dict) else None
        if body is None:
            continue
        if "/callback" in request.path:
            body = body.get("data") if isinstance(body.get("data"), dict) else None
            if body is None:
                continue
        if not body.get("content") and not body.get("embeds"):
            continue
        allowed = body.get("allowed_mentions")
        label = f"{request.method} {request.route or request.path}"
        if not isinstance(allowed, dict):
            problems.append(f"{label}: no allowed_mentions in {body!r:.300}")
            continue
        parse = allowed.get("parse")
        if parse is None or set(parse) & {"everyone", "users", "roles"}:
            problems.append(f"{label}: allowed_mentions {allowed!r} lets mentions through")
        if allowed.get("users") or allowed.get("roles"):
            problems.append(f"{label}: allowed_mentions {allowed!r} names users or roles to ping")
    return problems


def assert_every_request_clean(requests: list[RecordedRequest]) -> None:
    """Every REST request the bot made was accepted, pinged nobody and matches Discord's OpenAPI spec."""
    unanswered = [f"{r.method} {r.path} -> {r.status}" for r in requests if not 200 <= r.status < 300]
    assert not unanswered, "requests the emulator refused:\n" + "\n".join(unanswered)
    pinging = mention_problems(requests)
    assert not pinging, "\n".join(pinging)
    problems = OpenAPIValidator(openapi_spec_path()).validate_all(requests)
    assert not problems, f"{len(problems)} problem(s) against the OpenAPI spec:\n" + "\n".join(problems)


def embed_lines(message: dict[str, Any], pattern: re.Pattern[str], form: str) -> list[re.Match[str]]:
    """Each line of the message's one embed, matched against `pattern` (`form` names it on failure)."""
    (embed,) = message["embeds"]
    lines = embed["description"].splitlines()
    matches = [pattern.match(line) for line in lines]
    assert all(matches), f"lines not in the {form} form: {lines}"
    return matches  # type: ignore[return-value]
