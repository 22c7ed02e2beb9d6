"""The Engine on the real Last.fm data: recommendations, reasons, explanations, similar artists."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from recommender.engine import (
    LIKE_PLAYS,
    MAX_RESULTS,
    PRUNED_FROM_ARTISTS,
    Engine,
    EngineError,
    Explanation,
)

pytestmark = pytest.mark.slow


def raw_user_artists(lastfm_dir: Path, user_id: int) -> set[int]:
    """The artists a user plays, read straight from user_artists.dat (not through the engine)."""
    with open(lastfm_dir / "user_artists.dat", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)
        return {int(artist) for user, artist, _ in reader if int(user) == user_id}


@pytest.fixture(scope="module")
def user2_artists(lastfm_dir: Path) -> set[int]:
    artists = raw_user_artists(lastfm_dir, 2)
    assert len(artists) == 50  # user 2 plays their top 50 artists in HetRec 2011
    return artists


@pytest.fixture(scope="module")
def ids(lastfm_catalogue) -> dict[str, int]:
    names = ["Radiohead", "Björk", "Daft Punk"]
    found = {name: lastfm_catalogue.lookup(name) for name in names}
    assert all(found.values()), found
    return {name: artist.artist_id for name, artist in found.items()}


def test_recommend_for_user_avoids_what_they_play_and_names_what_they_do(
    lastfm_engine: Engine, user2_artists: set[int]
) -> None:
    results = lastfm_engine.recommend_for_user("lastfm:2", 5)
    assert len(results) == 5
    recommended = [r.artist.artist_id for r in results]
    assert len(set(recommended)) == 5
    assert not set(recommended) & user2_artists
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    for result in results:
        assert result.because, result.artist.name
        assert 1 <= len(result.because) <= 3
        assert {a.artist_id for a in result.because} <= user2_artists


def test_recommend_for_user_unknown(lastfm_engine: Engine) -> None:
    with pytest.raises(EngineError, match="unknown user lastfm:1"):
        lastfm_engine.recommend_for_user("lastfm:1", 5)
    with pytest.raises(EngineError):
        lastfm_engine.recommend_for_user("discord:123", 5)


def test_recommend_for_likes(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    likes = {ids["Radiohead"], ids["Björk"]}
    results = lastfm_engine.recommend_for_likes(sorted(likes), 10)
    assert len(results) == 10
    assert not {r.artist.artist_id for r in results} & likes
    for result in results:
        assert result.because and {a.artist_id for a in result.because} <= likes
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_reasons_add_up_to_the_score(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    likes = [ids["Radiohead"], ids["Björk"], ids["Daft Punk"]]
    row = lastfm_engine.likes_row(likes)
    for result in lastfm_engine.recommend_for_likes(likes, 5):
        column = lastfm_engine.interactions.artist_column(result.artist.artist_id)
        _, shares = lastfm_engine.model.contributions(row, column)
        assert np.isclose(shares.sum(), result.score, rtol=1e-4)


def test_not_interested_artist_never_appears(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    likes = [ids["Radiohead"], ids["Björk"]]
    before = lastfm_engine.recommend_for_likes(likes, 10)
    marked = [before[0].artist.artist_id, before[3].artist.artist_id]
    after = lastfm_engine.recommend_for_likes(likes, 10, not_interested=marked)
    recommended = {r.artist.artist_id for r in after}
    assert not recommended & set(marked)
    assert len(after) == 10
    # The rest of the list moves up.
    assert after[0].artist in {r.artist for r in before[1:4]}
    for result in after:
        assert not {a.artist_id for a in result.because} & set(marked)


def test_explain_for_likes_gives_reasons_and_rank(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    likes = [ids["Radiohead"], ids["Björk"]]
    results = lastfm_engine.recommend_for_likes(likes, 5)
    for rank, result in enumerate(results, 1):
        explanation = lastfm_engine.explain_for_likes(likes, result.artist.artist_id)
        assert isinstance(explanation, Explanation)
        assert explanation.rank == rank and not explanation.already_liked
        assert explanation.score == pytest.approx(result.score, rel=1e-5)
        text = "\n".join(explanation.sentences())
        assert "Because you like" in text
        assert f"#{rank}" in text
        assert "Radiohead" in text or "Björk" in text
        assert sum(share for _, share in explanation.contributions) == pytest.approx(explanation.score, rel=1e-4)
        assert explanation.ranked_artists == lastfm_engine.interactions.shape[1] - 2


def test_explain_for_user_matches_their_ranking(lastfm_engine: Engine, user2_artists: set[int]) -> None:
    results = lastfm_engine.recommend_for_user("lastfm:2", 3)
    for rank, result in enumerate(results, 1):
        explanation = lastfm_engine.explain_for_user("lastfm:2", result.artist.artist_id)
        assert explanation.rank == rank
        assert explanation.ranked_artists == lastfm_engine.interactions.shape[1] - len(user2_artists)
        assert {a.artist_id for a, share in explanation.contributions} <= user2_artists
        assert any(line.startswith("Because you like") for line in explanation.sentences())


def test_explaining_an_artist_you_already_like_says_so(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    likes = [ids["Radiohead"], ids["Björk"]]
    explanation = lastfm_engine.explain_for_likes(likes, ids["Radiohead"])
    assert explanation.already_liked and explanation.rank is None
    sentences = explanation.sentences()
    assert sentences[0] == "You already like Radiohead, so Encore does not recommend it to you."
    assert not any(line.startswith("It ranks") for line in sentences)


def test_explaining_a_not_interested_artist_does_not_claim_you_like_it(
    lastfm_engine: Engine, ids: dict[str, int]
) -> None:
    likes = [ids["Radiohead"], ids["Björk"]]
    marked = lastfm_engine.recommend_for_likes(likes, 1)[0].artist
    explanation = lastfm_engine.explain_for_likes(likes, marked.artist_id, not_interested=[marked.artist_id])
    sentences = explanation.sentences()
    assert not any(line.startswith("You already like") for line in sentences)
    assert sentences[0] == f"You marked {marked.name} as not interested, so Encore does not recommend it to you."
    assert explanation.rank is None


def test_explain_unknown_artist(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    with pytest.raises(EngineError, match="not in the model"):
        lastfm_engine.explain_for_likes([ids["Radiohead"]], 10**9)


def test_similar_excludes_the_artist_itself(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    results = lastfm_engine.similar(ids["Daft Punk"], 10)
    assert len(results) == 10
    assert ids["Daft Punk"] not in {a.artist_id for a, _ in results}
    similarities = [s for _, s in results]
    assert similarities == sorted(similarities, reverse=True)
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in similarities)
    with pytest.raises(EngineError, match="no listeners"):
        lastfm_engine.similar(10**9, 5)


@pytest.mark.parametrize("n", [0, -1, MAX_RESULTS + 1, 10**6])
def test_result_count_out_of_range(lastfm_engine: Engine, ids: dict[str, int], n: int) -> None:
    with pytest.raises(EngineError, match="between 1 and 100"):
        lastfm_engine.recommend_for_user("lastfm:2", n)
    with pytest.raises(EngineError, match="between 1 and 100"):
        lastfm_engine.recommend_for_likes([ids["Radiohead"]], n)
    with pytest.raises(EngineError, match="between 1 and 100"):
        lastfm_engine.similar(ids["Daft Punk"], n)


def test_result_count_bounds_are_allowed(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    assert len(lastfm_engine.recommend_for_likes([ids["Radiohead"]], 1)) == 1
    assert len(lastfm_engine.recommend_for_likes([ids["Radiohead"]], MAX_RESULTS)) == MAX_RESULTS
    with pytest.raises(EngineError):
        lastfm_engine.recommend_for_likes([ids["Radiohead"]], 2.5)


@pytest.mark.parametrize("likes", [[], [10**9], [-1, 10**9 + 1]], ids=["empty", "unknown", "unknowns"])
def test_empty_or_unknown_likes(lastfm_engine: Engine, likes: list[int]) -> None:
    with pytest.raises(EngineError, match="none of those artists is known"):
        lastfm_engine.recommend_for_likes(likes, 5)


def test_unknown_likes_are_dropped_next_to_known_ones(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    with_unknown = lastfm_engine.recommend_for_likes([ids["Radiohead"], 10**9], 5)
    alone = lastfm_engine.recommend_for_likes([ids["Radiohead"]], 5)
    assert [r.artist for r in with_unknown] == [r.artist for r in alone]


def test_likes_row_uses_like_plays(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    row = lastfm_engine.likes_row([ids["Radiohead"], ids["Björk"]], not_interested=[ids["Daft Punk"]])
    assert row.shape == (1, lastfm_engine.interactions.shape[1])
    assert sorted(row.data.tolist()) == [-LIKE_PLAYS, LIKE_PLAYS, LIKE_PLAYS]


def test_imported_plays_weigh_as_plays(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    liked = [ids["Radiohead"], ids["Björk"], 10**9]
    row = lastfm_engine.likes_row(liked, plays=[1234.0, None, 7.0])
    values = dict(zip(row.indices.tolist(), row.data.tolist()))
    assert values == {
        lastfm_engine.interactions.artist_column(ids["Radiohead"]): 1234.0,
        lastfm_engine.interactions.artist_column(ids["Björk"]): LIKE_PLAYS,
    }
    with pytest.raises(ValueError):
        lastfm_engine.likes_row(liked, plays=[1.0])
    # A play count changes the answer; a like with the default weight does not.
    assert lastfm_engine.recommend_for_likes(liked, 10, plays=[None, None, None]) == lastfm_engine.recommend_for_likes(
        liked, 10
    )
    assert (
        lastfm_engine.explain_for_likes(liked, ids["Daft Punk"], plays=[5000.0, 1.0, None]).contributions
        != lastfm_engine.explain_for_likes(liked, ids["Daft Punk"]).contributions
    )


def test_recommend_for_rows_matches_one_at_a_time(lastfm_engine: Engine, ids: dict[str, int]) -> None:
    import scipy.sparse as sp

    members = [[ids["Radiohead"]], [ids["Daft Punk"], ids["Björk"]]]
    rows = sp.vstack([lastfm_engine.likes_row(m) for m in members]).tocsr()
    batched = lastfm_engine.recommend_for_rows(rows, 5)
    for likes, results in zip(members, batched, strict=True):
        single = lastfm_engine.recommend_for_likes(likes, 5)
        assert [r.artist for r in results] == [r.artist for r in single]


def test_pruned_scoring_recommends_what_scoring_every_artist_does(lastfm_engine: Engine) -> None:
    """At the real data's 17,632 artists the engine ranks with the pruned scorer; the dense pass over
    every artist gives the same artists, order, scores and reasons."""
    engine = lastfm_engine
    assert engine.model.n_items >= engine.pruned_from_artists
    rng = np.random.default_rng(0)
    listeners = np.diff(engine.interactions.plays.tocsc().indptr).astype(np.float64)
    users = [str(k) for k in engine.interactions.user_keys[::190]]
    engine.pruned_from_artists = 0
    try:
        for penalty in (None, 0.5, 2.0):
            for _ in range(20):
                liked = rng.choice(
                    engine.interactions.artist_ids,
                    size=int(rng.integers(1, 20)),
                    replace=False,
                    p=listeners / listeners.sum(),
                ).tolist()
                row = engine.likes_row(liked)
                assert engine._pruned_top(engine.model.solve_row(row), row, 10, penalty) is not None
                pruned = engine.recommend_for_likes(liked, 10, popularity_penalty=penalty)
                engine.pruned_from_artists = 10**12
                assert engine.recommend_for_likes(liked, 10, popularity_penalty=penalty) == pruned
                engine.pruned_from_artists = 0
        for user in users:
            pruned = engine.recommend_for_user(user, 25)
            engine.pruned_from_artists = 10**12
            assert engine.recommend_for_user(user, 25) == pruned
            engine.pruned_from_artists = 0
    finally:
        engine.pruned_from_artists = PRUNED_FROM_ARTISTS
