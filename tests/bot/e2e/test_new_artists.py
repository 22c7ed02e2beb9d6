"""Issue 16: an artist newer than the 2011 data, added through the fake Last.fm API, recommended at once.

The real bot against the emulator and a fake Last.fm holding "Billie Eilish" (fake_lastfm/artists.py):
one member adds her from /like's "did you mean" reply; another, who likes artists Last.fm finds like
her, is recommended her with "because you like …" and /why says the same, before any refit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from fake_lastfm import FakeLastFm
from tests.helpers.components import button
from tests.helpers.e2e import Encore, fake_lastfm_in_a_thread, like
from tests.helpers.e2e_messages import assert_every_request_clean, embed_lines, text_of

pytestmark = pytest.mark.slow

API_KEY = "e2e-new-artists-key"
NEW = "Billie Eilish"
#: In the 2011 data, and among the artists the fake Last.fm finds like her.
HER_NEIGHBOURS = ("Marina & the Diamonds", "Lykke Li", "Florence + the Machine", "The xx")
ITEM = re.compile(r"^\*\*(\d+)\.\*\* \[(.+?)\]\((https://www\.last\.fm/\S+?)\)(.*)$")


@pytest.fixture(scope="module")
def fake_lastfm() -> Iterator[FakeLastFm]:
    with fake_lastfm_in_a_thread(api_key=API_KEY, stall_seconds=5.0) as fake:
        yield fake


@pytest.fixture(scope="module")
def encore_env(fake_lastfm: FakeLastFm) -> dict[str, str]:
    return {"LASTFM_API_KEY": API_KEY, "ENCORE_LASTFM_API_BASE": fake_lastfm.base_url}


def test_a_new_artist_from_last_fm_is_recommended_to_a_member_who_likes_its_similar_artists(
    encore: Encore, fake_lastfm: FakeLastFm
) -> None:
    adder, fan = encore.member(), encore.member()
    version = encore.app.library.serving_version
    asked = encore.command(adder, "like", {"artist": NEW})
    message = asked.final_message()
    assert message["ephemeral"] and message["content"].startswith(f"No artist called “{NEW}”."), message
    assert "Last.fm's 2011 data" in message["content"] and "looks “Billie Eilish” up on Last.fm" in message["content"]
    add = button(message, f"Add “{NEW}” as a new artist")
    added = encore.click(asked, add["custom_id"], adder).final_message()
    content = added["content"]
    assert content.startswith(f"Added {NEW} as a new artist from Last.fm (pop"), content
    assert "so they count now" in content and "Marina" in content, content
    assert {r.query["method"] for r in fake_lastfm.requests} == {
        "artist.getinfo",
        "artist.getsimilar",
        "artist.gettoptags",
    }

    like(encore, fan, *HER_NEIGHBOURS)
    recommended = encore.command(fan, "recommend", {"count": 10}).final_message()
    lines = embed_lines(recommended, ITEM, "'**n.** [name](last.fm url) — because you like …'")
    hers = next((m for m in lines if m.group(2) == NEW), None)
    assert hers is not None, text_of(recommended)
    assert hers.group(3) == "https://www.last.fm/music/Billie+Eilish"
    assert "because you like" in hers.group(4) and any(n in hers.group(4) for n in HER_NEIGHBOURS), hers.group(4)

    why = text_of(encore.command(fan, "why", {"artist": NEW}).final_message())
    assert "Because you like" in why and any(n in why for n in HER_NEIGHBOURS), why
    assert encore.app.library.serving_version == version, "no refit happened"


def test_zz_new_artist_requests_ping_nobody_and_match_the_openapi_spec(encore: Encore) -> None:
    assert_every_request_clean(encore.requests())
