"""Listening sessions' next pick on the real fitted engine: what it never proposes, how votes count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from recommender.engine import Engine, EngineError
from recommender.sessions import SessionVote, next_pick, session_tastes

pytestmark = pytest.mark.slow

TASTES = {
    "metal": ["Iron Maiden", "Metallica", "Slayer", "Megadeth", "Judas Priest"],
    "pop": ["Britney Spears", "Lady Gaga", "Rihanna", "Katy Perry", "Christina Aguilera"],
    "indie": ["Radiohead", "Björk", "Portishead", "Sigur Rós", "Arcade Fire"],
}


@dataclass(frozen=True)
class Taste:
    liked: tuple[int, ...]
    not_interested: tuple[int, ...] = ()
    plays: tuple[float | None, ...] | None = None


@pytest.fixture(scope="module")
def ids(lastfm_catalogue):
    def lookup(*names: str) -> tuple[int, ...]:
        found = [lastfm_catalogue.lookup(name) for name in names]
        assert all(found), names
        return tuple(artist.artist_id for artist in found)

    return lookup


@pytest.fixture(scope="module")
def trio(ids) -> dict[str, Taste]:
    return {
        "alice": Taste(ids(*TASTES["metal"])),
        "bob": Taste(ids(*TASTES["pop"]), not_interested=ids("Coldplay")),
        "carol": Taste(ids(*TASTES["indie"]), plays=(900.0, None, 40.0, None, 12.0)),
    }


def cosine(engine: Engine, a: int, b: int) -> float:
    factors = engine.model.item_factors
    x, y = factors[engine.interactions.artist_column(a)], factors[engine.interactions.artist_column(b)]
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def play_session(engine: Engine, tastes: dict[str, Taste], rounds: int, **options) -> list[tuple]:
    """(pick, votes before it, proposed before it) per round; members vote in turns, one Into it a round."""
    votes: list[SessionVote] = []
    proposed: list[int] = []
    history = []
    members = list(tastes)
    for number in range(rounds):
        pick = next_pick(engine, tastes, votes=list(votes), proposed=list(proposed), **options)
        assert pick is not None
        history.append((pick, list(votes), list(proposed)))
        artist = pick.artist.artist_id
        proposed.append(artist)
        votes.extend(SessionVote(m, artist, i == number % len(members)) for i, m in enumerate(members))
    return history


def test_a_session_never_repeats_nor_proposes_what_members_hold_or_cannot_see(lastfm_engine: Engine, trio) -> None:
    hidden = {artist for artist in lastfm_engine.interactions.artist_ids.tolist() if artist % 3 == 0}
    asked: list[int] = []

    def visible(artist_id: int) -> bool:
        asked.append(artist_id)
        return artist_id not in hidden

    history = play_session(lastfm_engine, trio, 12, visible=visible)
    picks = [pick.artist.artist_id for pick, _, _ in history]
    assert len(set(picks)) == len(picks)
    held = {a for taste in trio.values() for a in (*taste.liked, *taste.not_interested)}
    assert not held & set(picks) and not hidden & set(picks)
    # Only candidates are asked about, never the whole catalogue.
    assert len(asked) < 12 * 64
    for pick, votes, _ in history:
        assert set(pick.for_members) <= set(trio) and pick.for_members
        liked = {a for taste in trio.values() for a in taste.liked} | {v.artist_id for v in votes if v.into_it}
        assert 1 <= len(pick.because) <= 3 and {a.artist_id for a in pick.because} <= liked
    assert next_pick(lastfm_engine, trio, votes=[], proposed=[], visible=lambda _: False) is None


def test_the_pick_is_the_same_whether_votes_are_already_in_the_tastes(lastfm_engine: Engine, trio) -> None:
    history = play_session(lastfm_engine, trio, 6)
    _, votes, proposed = history[-1]
    stored = {}
    for merged in session_tastes(trio, votes):
        original = trio[merged.member]
        into = [v.artist_id for v in votes if v.member == merged.member and v.into_it]
        out = [v.artist_id for v in votes if v.member == merged.member and not v.into_it]
        plays = None if original.plays is None else (*original.plays, *([None] * len(into)))
        stored[merged.member] = Taste((*original.liked, *into), (*original.not_interested, *out), plays)
    with_votes_stored = next_pick(lastfm_engine, stored, votes=votes, proposed=proposed)
    assert with_votes_stored == history[-1][0]
    # The votes count: without them the answer differs.
    assert next_pick(lastfm_engine, trio, votes=[], proposed=proposed) != with_votes_stored


def test_an_into_it_vote_moves_the_next_pick_towards_similar_artists(lastfm_engine: Engine, trio, ids) -> None:
    for name in ("Miles Davis", "Bob Marley", "Johnny Cash"):
        (artist,) = ids(name)
        plain = next_pick(lastfm_engine, trio, votes=[], proposed=[artist])
        into_it = next_pick(lastfm_engine, trio, votes=[SessionVote("alice", artist, True)], proposed=[artist])
        assert plain is not None and into_it is not None
        assert cosine(lastfm_engine, artist, into_it.artist.artist_id) > cosine(
            lastfm_engine, artist, plain.artist.artist_id
        )


def test_a_not_for_me_vote_moves_the_next_pick_away_from_the_rejected_artist(lastfm_engine: Engine, ids) -> None:
    # A rejection acts on the ALS part of the values (the co-listening graph walks from likes only), so
    # it is checked on that part alone: mixed with the graph, one rejection need not change the pick.
    als_only = {"graph_weight": 0.0}
    metal = {"alice": Taste(ids(*TASTES["metal"]))}
    first = next_pick(lastfm_engine, metal, votes=[], proposed=[], **als_only)
    assert first is not None
    rejected = first.artist.artist_id
    plain = next_pick(lastfm_engine, metal, votes=[], proposed=[rejected], **als_only)
    not_for_me = next_pick(
        lastfm_engine, metal, votes=[SessionVote("alice", rejected, False)], proposed=[rejected], **als_only
    )
    assert plain is not None and not_for_me is not None
    assert cosine(lastfm_engine, rejected, not_for_me.artist.artist_id) < cosine(
        lastfm_engine, rejected, plain.artist.artist_id
    )
    # Weighed like a standing mark, the rejection would not move the pick.
    standing = next_pick(
        lastfm_engine,
        metal,
        votes=[SessionVote("alice", rejected, False)],
        proposed=[rejected],
        rejection_weight=1.0,
        **als_only,
    )
    assert standing is not None and standing.artist == plain.artist


def test_members_without_known_likes_are_skipped_and_votes_of_absent_members_ignored(
    lastfm_engine: Engine, trio
) -> None:
    unknown = Taste((10**9,))
    alone = next_pick(lastfm_engine, {"alice": trio["alice"]}, votes=[], proposed=[])
    assert next_pick(lastfm_engine, {"alice": trio["alice"], "dave": unknown}, votes=[], proposed=[]) == alone
    absent = [SessionVote("bob", alone.artist.artist_id + 1, True)]
    assert next_pick(lastfm_engine, {"alice": trio["alice"]}, votes=absent, proposed=[]) == alone
    # An Into it makes a member with nothing known usable.
    voted = [SessionVote("dave", trio["alice"].liked[0], True)]
    assert next_pick(lastfm_engine, {"dave": unknown}, votes=voted, proposed=[]) is not None
    with pytest.raises(EngineError, match="nothing to go on"):
        next_pick(lastfm_engine, {"dave": unknown, "erin": Taste(())}, votes=[], proposed=[])
    with pytest.raises(EngineError, match="least-misery"):
        next_pick(lastfm_engine, trio, votes=[], proposed=[], strategy="borda")
