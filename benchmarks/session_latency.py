"""A listening session through the local Discord emulator: /session start's first answer, and vote -> next pick.

The bot is a real `encore run` process on the Last.fm data, as deployed; this process plays Discord (the
emulator) and a voice channel of `--members` members (3-5), who first /like a few real catalogue artists
each. Every clock reading is the emulator's own (`time.perf_counter` when it dispatches an interaction or
receives a request), so the figures are what Discord would see:

- **start**: `/session start` from INTERACTION_CREATE to the interaction callback (the first response,
  due within Discord's 3 s), and to the request that puts the panel with its first pick in the channel.
- **next pick**: from the click that completes a round (the last member's vote; in one round of
  `NEXT_EVERY` a Next pressed after one vote) to the first panel edit that shows the next pick (its
  buttons carry the new pick's id). Each earlier vote of the round waits for its own panel redraw, so a
  round starts from a quiet bot. Members vote Into it with probability 0.35, else Not for me. Beside
  it, that click's own callback (`round_click_callback`, due within the 3 s too).

Each run is a fresh emulator and a fresh bot process: an uncounted warm-up session, then `--sessions`
sessions of `--rounds` rounds (each started by the next member, ended with /session end). The JSON
holds each run's p50/p95/p99 (and the machine's load average, as the CPUs may be shared) and their median
over `--runs` runs (benchmarks/results/session-latency.json).

Usage: python benchmarks/session_latency.py [--members 4] [--sessions 10] [--rounds 7] [--runs 3] [--seed 0]
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from discord_emulator import DiscordEmulator, InteractionRecord, Member, RecordedRequest

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, benchmark_parser, data_dir, machine, write_result

RESULT_PATH = RESULTS / "session-latency.json"
TOKEN = "benchmark-token"
#: What each member likes before the sessions: real names from the Last.fm catalogue, one taste each.
TASTES = (
    ("Radiohead", "Björk", "Portishead", "Massive Attack"),
    ("Daft Punk", "Justice", "Air"),
    ("Metallica", "Slayer", "Iron Maiden"),
    ("Muse", "Coldplay", "The Killers"),
    ("Lady Gaga", "Britney Spears", "Rihanna"),
)
INTO_IT_PROBABILITY = 0.35
#: One round in this many ends with Next (after the first vote) instead of the last member's vote.
NEXT_EVERY = 5
WARMUP_ROUNDS = 4
#: Generous guards against a hang; not speed limits.
ANSWER_TIMEOUT = 20.0
BOT_START_TIMEOUT = 240.0
PANEL_BUTTON = re.compile(r"encore:session:(?:into|not|next):(\d+):(\d+)")


# -- reading the emulator's records ----------------------------------------------------------------


def session_buttons(components: Any) -> tuple[int, int] | None:
    """(session id, pick id) from a panel's Into it / Not for me / Next buttons, if the components hold them."""
    for component in components or ():
        match = PANEL_BUTTON.fullmatch(str(component.get("custom_id") or ""))
        if match:
            return int(match[1]), int(match[2])
        inner = session_buttons(component.get("components"))
        if inner is not None:
            return inner
    return None


def panel_drawn(request: RecordedRequest) -> tuple[int, int] | None:
    """(session, pick) a request draws a panel with: a message sent or edited, or an interaction's callback."""
    body = request.json
    if request.method not in ("POST", "PATCH") or not isinstance(body, dict):
        return None
    if request.route and request.route.endswith("/callback"):
        body = body.get("data") or {}
    return session_buttons(body.get("components"))


def answered(record: InteractionRecord) -> bool:
    """A callback that is a finished answer (not "thinking…"), or a refusal by the emulator."""
    if record.rejections:
        return True
    if record.callback is None:
        return False
    try:
        return not record.final_message()["loading"]
    except LookupError:
        return True  # a deferred update: no message of its own


class Discord:
    """The emulator with one guild, a text channel and a voice channel of members; waits on its records."""

    def __init__(self, emulator: DiscordEmulator, members: int) -> None:
        self.emulator = emulator
        self.guild = emulator.add_guild("Session benchmark")
        self.text = emulator.add_text_channel(self.guild, "music")
        self.voice = emulator.add_voice_channel(self.guild, "Listening Room")
        self.members = [emulator.add_member(self.guild, f"listener{i}") for i in range(members)]
        for member in self.members:
            emulator.join_voice(self.guild, member, self.voice)

    async def request(
        self, after: int, found: Callable[[RecordedRequest], bool], what: str
    ) -> tuple[int, RecordedRequest]:
        """The first request from index `after` on that `found` accepts and the emulator answered."""
        deadline = time.perf_counter() + ANSWER_TIMEOUT
        index = after
        while True:
            requests = self.emulator.requests
            while index < len(requests):
                request = requests[index]
                if request.status == 0:
                    break  # still being handled: its body may not be read yet
                if found(request):
                    if not 200 <= request.status < 300:
                        raise RuntimeError(f"{what}: the emulator refused {request!r}")
                    return index, request
                index += 1
            if time.perf_counter() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            await asyncio.sleep(0.001)

    async def command(self, member: Member, name: str, options: dict | None = None, sub: str | None = None):
        record = await self.emulator.invoke(self.guild, self.text, member, name, options or {}, sub)
        await record.wait_until(answered, ANSWER_TIMEOUT)
        return checked(record)

    async def click(self, panel_id: int, action: str, member: Member) -> InteractionRecord:
        message = self.emulator.state.messages[panel_id].payload
        custom_id = next(c for c in custom_ids(message["components"]) if c.startswith(f"encore:session:{action}:"))
        record = await self.emulator.click(panel_id, custom_id, member)
        await record.wait_for_callback(ANSWER_TIMEOUT)
        return checked(record)

    def panel_id(self, session_id: int) -> int:
        for stored in reversed(list(self.emulator.state.messages.values())):
            found = session_buttons(stored.payload.get("components"))
            if not stored.deleted and found is not None and found[0] == session_id:
                return stored.id
        raise RuntimeError(f"no panel for session {session_id}")


def checked(record: InteractionRecord) -> InteractionRecord:
    if record.rejections:
        raise RuntimeError(f"the emulator refused the bot's answer: {record.rejections}")
    return record


def custom_ids(components: Any) -> list[str]:
    found = []
    for component in components or ():
        if component.get("custom_id"):
            found.append(component["custom_id"])
        found.extend(custom_ids(component.get("components")))
    return found


# -- one session ------------------------------------------------------------------------------------


async def start_session(discord: Discord, starter: Member) -> tuple[dict[str, float], int, int, int]:
    """/session start: its latencies (ms), and the session, its panel and the first pick."""
    mark = len(discord.emulator.requests)
    record = await discord.emulator.invoke(discord.guild, discord.text, starter, "session", {}, "start")
    _, drawn = await discord.request(mark, lambda r: panel_drawn(r) is not None, "the first panel")
    await record.wait_until(answered, ANSWER_TIMEOUT)
    checked(record)
    session_id, pick_id = panel_drawn(drawn)  # type: ignore[misc]
    timings = {
        "callback_ms": record.latency * 1000,  # type: ignore[operator]
        "first_pick_ms": (drawn.timestamp - record.dispatched_at) * 1000,
    }
    return timings, session_id, discord.panel_id(session_id), pick_id


async def play_round(
    discord: Discord, session_id: int, panel_id: int, pick_id: int, *, by_next: bool, rng: np.random.Generator
) -> tuple[float, float, int]:
    """Every member votes (or one votes and another presses Next): ms from the last click to the next pick
    and to that click's callback, and the next pick."""
    voters = discord.members[:1] if by_next else discord.members[:-1]
    for member in voters:
        action = "into" if rng.random() < INTO_IT_PROBABILITY else "not"
        mark = len(discord.emulator.requests)
        record = await discord.click(panel_id, action, member)

        def own_redraw(request: RecordedRequest, record: InteractionRecord = record) -> bool:
            """The panel drawn after this vote was acknowledged (or by the acknowledgement itself)."""
            if panel_drawn(request) != (session_id, pick_id):
                return False
            acknowledged = record.callback.at  # type: ignore[union-attr]
            return request.timestamp > acknowledged or f"/interactions/{record.id}/" in request.path

        await discord.request(mark, own_redraw, "a vote's redraw")
    if by_next:
        last, action = discord.members[-1], "next"
    else:
        last, action = discord.members[-1], "into" if rng.random() < INTO_IT_PROBABILITY else "not"
    mark = len(discord.emulator.requests)
    record = await discord.click(panel_id, action, last)

    def next_pick(request: RecordedRequest) -> bool:
        drawn = panel_drawn(request)
        return drawn is not None and drawn[0] == session_id and drawn[1] != pick_id

    _, drawn = await discord.request(mark, next_pick, "the next pick")
    acknowledged = record.latency * 1000  # type: ignore[operator]
    return (drawn.timestamp - record.dispatched_at) * 1000, acknowledged, panel_drawn(drawn)[1]  # type: ignore[index]


async def play_session(
    discord: Discord, starter: Member, rounds: int, rng: np.random.Generator
) -> tuple[dict[str, float], list[tuple[str, float, float]]]:
    start, session_id, panel_id, pick_id = await start_session(discord, starter)
    picks = []
    for number in range(rounds):
        by_next = number % NEXT_EVERY == NEXT_EVERY - 1
        latency, acknowledged, pick_id = await play_round(
            discord, session_id, panel_id, pick_id, by_next=by_next, rng=rng
        )
        picks.append(("next" if by_next else "vote", latency, acknowledged))
    await discord.command(starter, "session", sub="end")
    return start, picks


# -- one run: a fresh emulator and bot --------------------------------------------------------------


async def wait_for_commands(discord: Discord, bot: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BOT_START_TIMEOUT
    names = {"session", "like"}
    while not names <= {c["name"] for c in discord.emulator.commands(discord.guild)}:
        if bot.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not come up; see {log}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # let the bot finish handling GUILD_CREATE


async def run_once(args: Any, home: Path, lastfm: Path, seed: int) -> dict[str, Any]:
    emulator = DiscordEmulator(token=TOKEN)
    await emulator.start()
    discord = Discord(emulator, args.members)
    env = os.environ | {
        "ENCORE_HOME": str(home),
        "ENCORE_LASTFM_DIR": str(lastfm),
        "DISCORD_TOKEN": TOKEN,
        "OPENBLAS_NUM_THREADS": "1",
        "ENCORE_DISCORD_API_BASE": emulator.api_base,
        "ENCORE_DISCORD_GATEWAY": emulator.gateway_url,
    }
    log = home / "bot.log"
    with open(log, "w") as stderr:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    rng = np.random.default_rng(seed)
    load_before = round(os.getloadavg()[0], 2)
    try:
        await wait_for_commands(discord, bot, log)
        for member, taste in zip(discord.members, TASTES, strict=False):
            for artist in taste:
                content = (await discord.command(member, "like", {"artist": artist})).final_message()["content"]
                if not content.startswith(("Noted: you like", "You already like")):
                    raise RuntimeError(f"/like {artist}: {content}")
        # Uncounted: the first session pays for first database connections and first calls.
        await play_session(discord, discord.members[-1], WARMUP_ROUNDS, rng)
        # The harness's collector, walking every recorded request, would pause the emulator's clock.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            starts, picks = [], []
            for number in range(args.sessions):
                starter = discord.members[number % len(discord.members)]
                start, rounds = await play_session(discord, starter, args.rounds, rng)
                starts.append(start)
                picks.extend(rounds)
        finally:
            gc.enable()
            gc.unfreeze()
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(bot.wait, 30)
        except subprocess.TimeoutExpired:
            bot.kill()
        crashes = list(emulator.internal_errors)
        await emulator.stop()
    if crashes:
        raise RuntimeError("the emulator crashed:\n" + "\n".join(crashes))
    return {
        "start_callback": summary([s["callback_ms"] for s in starts]),
        "start_first_pick": summary([s["first_pick_ms"] for s in starts]),
        "next_pick": summary([ms for _, ms, _ in picks]),
        "next_pick_after_last_vote": summary([ms for kind, ms, _ in picks if kind == "vote"]),
        "next_pick_after_next": summary([ms for kind, ms, _ in picks if kind == "next"]),
        "round_click_callback": summary([ms for _, _, ms in picks]),
        "load_average_1min": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
    }


def summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    ms = np.asarray(samples)
    return {
        "count": len(samples),
        **{f"p{q}_ms": round(float(np.percentile(ms, q)), 2) for q in (50, 95, 99)},
        "max_ms": round(float(ms.max()), 2),
    }


def median_over_runs(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {
        figure: {
            key: float(statistics.median(run[figure][key] for run in runs))
            for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
        }
        for figure in runs[0]
        if "count" in runs[0][figure] and all(run[figure]["count"] for run in runs)
    }


def main() -> None:
    parser = benchmark_parser(__doc__, RESULT_PATH)
    parser.add_argument("--members", type=int, default=4, choices=range(3, 6), help="members in the voice channel")
    parser.add_argument("--sessions", type=int, default=10, help="measured sessions per run")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per session")
    parser.add_argument("--runs", type=int, default=3, help="whole runs (a fresh bot each); medians are reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lastfm = data_dir(args.data_dir)
    runs = []
    started = time.perf_counter()
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="encore-session-bench-") as home:
            runs.append(asyncio.run(run_once(args, Path(home), lastfm, args.seed + run)))
        last = runs[-1]
        print(
            f"run {run + 1}: start callback p50 {last['start_callback']['p50_ms']:.1f} ms, first pick p50 "
            f"{last['start_first_pick']['p50_ms']:.1f} ms; next pick p50 {last['next_pick']['p50_ms']:.1f} ms, "
            f"p99 {last['next_pick']['p99_ms']:.1f} ms ({last['next_pick']['count']} rounds)"
        )
    result = {
        "benchmark": "session-latency",
        "what": "a real `encore run` process through the local Discord emulator, emulator clock: /session start "
        "INTERACTION_CREATE -> callback and -> panel with its first pick; the click completing a round -> the "
        "panel edit showing the next pick",
        "members": args.members,
        "likes_per_member": [len(t) for t in TASTES[: args.members]],
        "sessions_per_run": args.sessions,
        "rounds_per_session": args.rounds,
        "warmup_session_rounds_not_counted": WARMUP_ROUNDS,
        "into_it_probability": INTO_IT_PROBABILITY,
        "rounds_ended_by_next": f"1 in {NEXT_EVERY}",
        "discord_deadline_ms": 3000.0,
        "aggregation": "per-run percentiles; `median` is their median over the runs",
        "median": median_over_runs(runs),
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(harness_gc="off while measuring (the bot's is on, as deployed)"),
    }
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
