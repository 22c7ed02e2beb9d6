"""The emulator's protocol edges, probed with a raw aiohttp client instead of discord.py."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from discord_emulator import DiscordEmulator
from tests.helpers.emulator import emulator_only, run


def _auth(emu: DiscordEmulator, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bot {token or emu.token}"}


async def _receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    message = await ws.receive(timeout=timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def _identify(
    ws: aiohttp.ClientWebSocketResponse, token: str, intents: int = 0b1011000111
) -> list[dict[str, Any]]:
    """HELLO, IDENTIFY, then READY and the GUILD_CREATEs."""
    hello = await _receive(ws)
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    await ws.send_json({"op": 2, "d": {"token": token, "intents": intents, "properties": {}}})
    ready = await _receive(ws)
    assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
    return [ready, await _receive(ws)]


def test_json_errors_auth_and_catch_all() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession() as http:
            emu = world.emulator
            async with http.get(f"{emu.api_base}/users/@me") as response:
                assert response.status == 401
            async with http.get(f"{emu.api_base}/users/@me", headers=_auth(emu, "wrong")) as response:
                assert response.status == 401
            async with http.get(f"{emu.api_base}/users/@me", headers=_auth(emu)) as response:
                assert response.status == 200
                # discord.py only parses JSON when the header is exactly this, without "; charset=...".
                assert response.headers["Content-Type"] == "application/json"
                assert response.headers["X-RateLimit-Remaining"]
                me = await response.json()
                assert me["bot"] is True and me["discriminator"] == "0" and me["id"] == str(emu.application_id)
            async with http.get(f"{emu.api_base}/gateway/bot", headers=_auth(emu)) as response:
                body = await response.json()
                assert body["url"] == emu.gateway_url and body["shards"] == 1
            for url in (f"{emu.api_base}/no/such/thing", f"{emu.base_url}/api/v9/users/@me"):
                async with http.post(url, json={"x": 1}, headers=_auth(emu)) as response:
                    assert response.status == 404
                    assert response.headers["Content-Type"] == "application/json"
                    assert await response.json() == {"message": "404: Not Found", "code": 0}
            unknown = [r for r in emu.requests if r.route is None]
            assert [(r.method, r.path, r.json) for r in unknown] == [
                ("POST", "/api/v10/no/such/thing", {"x": 1}),
                ("POST", "/api/v9/users/@me", {"x": 1}),
            ]
            assert all(
                "Authorization" not in r.headers or emu.token not in r.headers["Authorization"] for r in emu.requests
            )
            async with http.post(f"{emu.api_base}/interactions/1/nope/callback", json={"type": 4}) as response:
                assert response.status == 404 and (await response.json())["code"] == 10062
            async with http.post(
                f"{emu.api_base}/webhooks/{emu.application_id}/nope", json={"content": "x"}
            ) as response:
                assert response.status == 404 and (await response.json())["code"] == 10015

    run(scenario)


def test_bot_channel_messages_over_rest() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession(headers=_auth(world.emulator)) as http:
            emu, channel = world.emulator, world.general
            url = f"{emu.api_base}/channels/{channel.id}/messages"
            async with http.post(url, json={"content": f"hello <@{world.alice.id}>"}) as response:
                assert response.status == 200
                created = await response.json()
            assert created["mentions"][0]["id"] == str(world.alice.id)
            async with http.patch(f"{url}/{created['id']}", json={"content": "edited"}) as response:
                assert (await response.json())["edited_timestamp"] is not None
            async with http.get(url) as response:
                assert [m["content"] for m in await response.json()] == ["edited"]
            async with http.post(url, json={"content": ""}) as response:
                assert response.status == 400 and (await response.json())["code"] == 50006
            async with http.post(url, json={"content": "x" * 2001}) as response:
                error = await response.json()
                assert response.status == 400 and error["code"] == 50035
                assert error["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
            async with http.delete(f"{url}/{created['id']}") as response:
                assert response.status == 204
            async with http.get(f"{url}/{created['id']}") as response:
                assert response.status == 404 and (await response.json())["code"] == 10008
            async with http.get(f"{emu.api_base}/channels/{channel.id}") as response:
                assert (await response.json())["guild_id"] == str(world.guild.id)
            async with http.get(f"{emu.api_base}/guilds/{world.guild.id}/members/{world.mod.id}") as response:
                member = await response.json()
                assert member["user"]["username"] == "mod" and len(member["roles"]) == 1
            async with http.get(f"{emu.api_base}/guilds/{world.guild.id}/members/1") as response:
                assert response.status == 404 and (await response.json())["code"] == 10007

    run(scenario)


def test_raw_gateway_session_and_interaction_callbacks() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession() as http:
            emu = world.emulator
            async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
                ready, guild_create = await _identify(ws, emu.token)
                assert ready["d"]["guilds"] == [{"id": str(world.guild.id), "unavailable": True}]
                assert ready["d"]["resume_gateway_url"] == emu.resume_gateway_url
                assert guild_create["t"] == "GUILD_CREATE" and guild_create["s"] == 2
                assert guild_create["d"]["member_count"] == len(guild_create["d"]["members"])
                await ws.send_json({"op": 1, "d": 2})
                assert (await _receive(ws))["op"] == 11

                # A command needs registering first, as the bot's sync would.
                async with http.put(
                    f"{emu.api_base}/applications/{emu.application_id}/guilds/{world.guild.id}/commands",
                    json=[{"name": "ping", "description": "Ping", "type": 1}],
                    headers=_auth(emu),
                ) as response:
                    commands = await response.json()
                    assert commands[0]["version"] and commands[0]["guild_id"] == str(world.guild.id)
                record = await emu.invoke(world.guild, world.general, world.alice, "ping")
                event = await _receive(ws)
                assert (event["t"], event["s"]) == ("INTERACTION_CREATE", 3)
                interaction = event["d"]
                for key in (
                    "id",
                    "application_id",
                    "token",
                    "version",
                    "guild_id",
                    "channel",
                    "channel_id",
                    "member",
                    "app_permissions",
                    "locale",
                    "guild_locale",
                    "entitlements",
                    "authorizing_integration_owners",
                    "context",
                    "attachment_size_limit",
                ):
                    assert key in interaction, key
                assert interaction["data"]["guild_id"] == str(world.guild.id)
                callback = f"{emu.api_base}/interactions/{interaction['id']}/{interaction['token']}/callback"
                async with http.post(callback, json={"type": 8, "data": {"choices": []}}) as response:
                    assert response.status == 400  # autocomplete results are not an answer to a command
                async with http.post(
                    callback, params={"with_response": "true"}, json={"type": 4, "data": {"content": "pong"}}
                ) as response:
                    body = await response.json()
                    assert body["interaction"]["response_message_id"] == body["resource"]["message"]["id"]
                async with http.post(callback, json={"type": 4, "data": {"content": "again"}}) as response:
                    assert response.status == 400 and (await response.json())["code"] == 40060
                assert record.final_message()["content"] == "pong"

                # The response message is also announced, as Discord does with the GUILD_MESSAGES intent.
                announced = await _receive(ws)
                assert announced["t"] == "MESSAGE_CREATE" and announced["d"]["content"] == "pong"

                await ws.send_json({"op": 99, "d": None})
                closing = await ws.receive(timeout=5)
                assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4001

            # RESUME of an unknown session: a non-resumable INVALID_SESSION.
            async with http.ws_connect(f"{emu.resume_gateway_url}?v=10&encoding=json") as ws:
                await _receive(ws)
                await ws.send_json({"op": 6, "d": {"token": emu.token, "session_id": "nope", "seq": 1}})
                assert await _receive(ws) == {"op": 9, "d": False, "s": None, "t": None}

            # Anything but HEARTBEAT/IDENTIFY/RESUME before identifying: 4003.
            async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
                await _receive(ws)
                await ws.send_json({"op": 3, "d": {"status": "online"}})
                closing = await ws.receive(timeout=5)
                assert closing.data == 4003

            async with http.ws_connect(f"{emu.gateway_url}?v=6&encoding=json") as ws:
                closing = await ws.receive(timeout=5)
                assert closing.data == 4012

    run(scenario)


def test_resume_replays_exactly_the_missed_dispatches() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession() as http:
            emu: DiscordEmulator = world.emulator
            async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
                ready, _ = await _identify(ws, emu.token)
            session_id = ready["d"]["session_id"]
            # Socket gone; these are buffered for the session.
            emu.add_member(world.guild, "late1")
            emu.add_member(world.guild, "late2")
            async with http.ws_connect(f"{ready['d']['resume_gateway_url']}?v=10&encoding=json") as ws:
                await _receive(ws)
                await ws.send_json({"op": 6, "d": {"token": emu.token, "session_id": session_id, "seq": 2}})
                frames = [await _receive(ws) for _ in range(3)]
            assert [(f["t"], f["s"]) for f in frames] == [
                ("GUILD_MEMBER_ADD", 3),
                ("GUILD_MEMBER_ADD", 4),
                ("RESUMED", 5),
            ]
            assert [f["d"]["user"]["username"] for f in frames[:2]] == ["late1", "late2"]
            assert emu.resume_count == 1 and emu.identify_count == 1

    run(scenario)


def test_raw_gateway_shards_get_only_their_servers_and_a_bad_shard_is_refused() -> None:
    async def scenario() -> None:
        async with emulator_only() as world, aiohttp.ClientSession() as http:
            emu = world.emulator
            other = emu.add_guild("Other")
            while (other.id >> 22) % 2 == (world.guild.id >> 22) % 2:  # snowflakes carry the time
                other = emu.add_guild("Other")
            owners = {(g.id >> 22) % 2: g for g in (world.guild, other)}
            for shard_id in (0, 1):
                async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
                    await _receive(ws)  # HELLO
                    await ws.send_json(
                        {"op": 2, "d": {"token": emu.token, "intents": 1, "properties": {}, "shard": [shard_id, 2]}}
                    )
                    ready = await _receive(ws)
                    assert ready["d"]["shard"] == [shard_id, 2]
                    ids = {g["id"] for g in ready["d"]["guilds"]}
                    assert str(owners[shard_id].id) in ids and str(owners[1 - shard_id].id) not in ids
                    assert all((int(i) >> 22) % 2 == shard_id for i in ids)
            async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
                await _receive(ws)
                await ws.send_json(
                    {"op": 2, "d": {"token": emu.token, "intents": 1, "properties": {}, "shard": [2, 2]}}
                )
                closed = await ws.receive(timeout=5)
                assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4010

    run(scenario)
