"""The emulated world: snowflakes, permissions, commands and the standalone entry point."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from discord_emulator import EmulatorState, SnowflakeGenerator, snowflake_time
from discord_emulator import permissions as perms
from tests.helpers.emulator import REPO_ROOT


def test_snowflakes_are_unique_increasing_and_time_based() -> None:
    generator = SnowflakeGenerator()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = generator.next()
    after = dt.datetime.now(dt.UTC)
    ids = [first] + [generator.next() for _ in range(20_000)]  # > 4096 per millisecond forces the overflow path
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(17 <= len(str(i)) <= 20 and i < 2**63 for i in ids)
    # Snowflakes carry whole milliseconds: the first one's time lies between the clock readings around it.
    assert before <= snowflake_time(first) <= after


def test_guild_members_roles_and_permissions() -> None:
    state = EmulatorState()
    guild = state.add_guild("G")
    assert guild.everyone.id == guild.id
    assert guild.members[state.bot_user.id].user.bot
    mod = state.add_member(guild, "mod", manage_guild=True)
    mod2 = state.add_member(guild, "mod2", manage_guild=True)
    plain = state.add_member(guild, "plain")
    assert mod.roles == mod2.roles and len(mod.roles) == 1  # one shared Moderator role
    assert guild.base_permissions(mod) & perms.MANAGE_GUILD
    assert not guild.base_permissions(plain) & perms.MANAGE_GUILD
    assert guild.base_permissions(guild.members[guild.owner_id]) == perms.ALL
    channel = state.add_text_channel(guild, "quiet")
    channel.permission_overwrites.append(
        {"id": str(guild.id), "type": 0, "allow": "0", "deny": str(perms.SEND_MESSAGES)}
    )
    assert not guild.permissions_in(plain, channel) & perms.SEND_MESSAGES
    assert guild.permissions_in(plain, channel) & perms.VIEW_CHANNEL
    voice = state.add_voice_channel(guild, "vc")
    state.join_voice(guild, plain, voice)
    payload = guild.to_payload()
    assert payload["voice_states"][0]["user_id"] == str(plain.id)
    assert payload["member_count"] == len(payload["members"]) == 5
    with pytest.raises(ValueError):
        state.join_voice(guild, plain, channel)


def test_bulk_overwrite_keeps_ids_and_bumps_versions() -> None:
    state = EmulatorState()
    guild = state.add_guild("G")
    first = state.overwrite_commands(guild.id, [{"name": "a", "description": "A"}, {"name": "b", "description": "B"}])
    second = state.overwrite_commands(guild.id, [{"name": "a", "description": "A2"}])
    assert second[0]["id"] == first[0]["id"] and second[0]["version"] != first[0]["version"]
    assert [c["name"] for c in state.commands_for(guild.id)] == ["a"]
    state.overwrite_commands(None, [{"name": "a", "description": "global"}, {"name": "g", "description": "G"}])
    # A guild command shadows the global one of the same name.
    assert sorted((c["name"], c.get("guild_id") is not None) for c in state.commands_for(guild.id)) == [
        ("a", True),
        ("g", False),
    ]


def test_standalone_server_prints_its_urls_and_stops_on_sigint() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "discord_emulator", "--port", "0", "--seed"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 20
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Ctrl-C"):
                break
        text = "\n".join(lines)
        assert "api_base     http://127.0.0.1:" in text and "/api/v10" in text, text
        assert "gateway_url  ws://127.0.0.1:" in text, text
        assert "'Encore Test Server'" in text, text
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
        assert process.returncode == 0, output
        assert "stopped after" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
