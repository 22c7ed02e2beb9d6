"""/lastfm link and unlink through the emulator, against a local fake Last.fm API.

Every failure Last.fm (or the network) can produce is shown to the member as a clear ephemeral
message, and leaves what an earlier link imported exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_lastfm import Failure, FakeLastFm
from tests.helpers.db import lastfm_link_of
from tests.helpers.e2e import Encore, fake_lastfm_in_a_thread
from tests.helpers.e2e_messages import EPHEMERAL, assert_every_request_clean

pytestmark = pytest.mark.slow

API_KEY = "e2e-lastfm-key"
CHART = [("Radiohead", 900), ("Björk", 400), ("Sigur Rós", 300), ("Portishead", 120), ("Zzyzx Quartet", 15)]
OTHER_CHART = [("Daft Punk", 700), ("Justice", 200)]


@pytest.fixture(scope="module")
def fake_lastfm() -> Iterator[FakeLastFm]:
    with fake_lastfm_in_a_thread(users={"rj": CHART, "dp": OTHER_CHART}, api_key=API_KEY, stall_seconds=5.0) as fake:
        yield fake


@pytest.fixture(scope="module")
def encore_env(fake_lastfm: FakeLastFm) -> dict[str, str]:
    return {"LASTFM_API_KEY": API_KEY, "ENCORE_LASTFM_API_BASE": fake_lastfm.base_url}


@pytest.fixture(autouse=True)
def _healthy(fake_lastfm: FakeLastFm) -> Iterator[None]:
    yield
    fake_lastfm.recover_all()


def link(encore: Encore, member, username: str) -> dict:
    message = encore.command(member, "lastfm", {"username": username}, subcommand="link").final_message()
    assert message["ephemeral"], message
    return message


def test_link_imports_top_artists_as_plays_and_they_count_at_once(encore: Encore) -> None:
    member = encore.member()
    message = link(encore, member, "rj")
    assert "5 top artists imported" in message["content"], message["content"]
    assert "Radiohead" in message["content"]
    rows = encore.run(encore.app.store.likes.likes_of(member.id))
    weights = {row.artist_id: row.weight for row in rows}
    assert weights[encore.artist_id("Radiohead")] == 900
    assert len(rows) == 5  # the unknown "Zzyzx Quartet" became a new artist
    # No /like at all: the import alone is a taste to recommend from.
    recommended = encore.command(member, "recommend", {"count": 5}).final_message()
    description = recommended["embeds"][0]["description"]
    assert not any(f"[{name}](" in description for name, _ in CHART), description
    reasons = " ".join(line.split("because you like", 1)[1] for line in description.splitlines())
    assert any(name in reasons for name, _ in CHART), description


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (Failure.UNKNOWN_USER, "no user"),
        (Failure.INVALID_KEY, "key"),
        (Failure.RATE_LIMIT, "try again"),
        (Failure.TIMEOUT, "took too long"),
        (Failure.INVALID_JSON, "Last.fm"),
        (Failure.MISSING_TOPARTISTS, "Last.fm"),
    ],
)
def test_each_lastfm_failure_is_a_clear_message_and_keeps_the_earlier_import(
    encore: Encore,
    fake_lastfm: FakeLastFm,
    failure: Failure,
    says: str,
) -> None:
    member = encore.member()
    link(encore, member, "rj")
    before = encore.liked_ids(member)
    encore.app.lastfm.client.timeout = 1.0  # the fake stalls for 5 s on TIMEOUT
    fake_lastfm.fail(failure)
    record = encore.command(member, "lastfm", {"username": "dp"}, subcommand="link")
    message = record.final_message()
    assert message["ephemeral"] and message["content"].startswith("⚠️"), message
    assert says.casefold() in message["content"].casefold(), message["content"]
    assert ". Anything imported earlier is unchanged." in message["content"]
    assert API_KEY not in message["content"]
    assert encore.liked_ids(member) == before
    link_row = encore.run(lastfm_link_of(encore.app.store, member.id))
    assert link_row is not None and link_row.username == "rj"


def test_relink_replaces_and_unlink_removes_only_the_import(encore: Encore) -> None:
    member = encore.member()
    encore.command(member, "like", {"artist": "Moby"})
    link(encore, member, "rj")
    link(encore, member, "dp")
    assert encore.liked_ids(member) == {encore.artist_id(n) for n in ("Moby", "Daft Punk", "Justice")}
    message = encore.command(member, "lastfm", subcommand="unlink").final_message()
    assert message["ephemeral"] and "Unlinked" in message["content"]
    assert encore.liked_ids(member) == {encore.artist_id("Moby")}
    again = encore.command(member, "lastfm", subcommand="unlink").final_message()
    assert "no Last.fm account linked" in again["content"]


def test_hostile_usernames_ping_nobody(encore: Encore) -> None:
    member = encore.member()
    for username in ("@everyone", "**bold** <@123456789012345678>", "名前", "x" * 100):
        message = link(encore, member, username)
        assert message["content"].startswith("⚠️"), message
    assert encore.liked_ids(member) == set()


def test_zz_lastfm_requests_ping_nobody_and_match_the_openapi_spec(encore: Encore) -> None:
    requests = encore.requests()
    assert_every_request_clean(requests)
    flags = [
        r.json["data"].get("flags", 0)
        for r in requests
        if r.json and r.route.endswith("/callback") and r.json.get("type") == 5
    ]
    assert flags and all(f & EPHEMERAL for f in flags), "link defers ephemerally"
