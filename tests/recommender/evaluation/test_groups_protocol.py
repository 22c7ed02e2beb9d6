"""Protocol P3 (groups): truth, friendships, the group draw, held-out batches, and a small real run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.engine import LIKE_PLAYS
from recommender.evaluation import groups as p3
from recommender.interactions import Interactions


def matrix(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    dense = np.zeros((len(rows), n_items), dtype=np.float32)
    for user, artists in enumerate(rows):
        dense[user, artists] = np.arange(1, len(artists) + 1) * 10
    return sp.csr_matrix(dense)


def artists_of(plays: sp.csr_matrix, user: int) -> np.ndarray:
    return plays.indices[plays.indptr[user] : plays.indptr[user + 1]]


# -- truth ------------------------------------------------------------------------------------------


def test_truth_of_a_pair_is_what_both_play_minus_likes() -> None:
    plays = matrix([[0, 1, 2, 3], [1, 2, 3, 4], [5]], 8)
    truth = p3.group_truth(plays, np.array([0, 1]), [np.array([1]), np.array([4])])
    assert truth.tolist() == [2, 3]  # 1 is shared but liked; 0 and 4 are one member's only


def test_truth_needs_two_members_and_half_the_group() -> None:
    plays = matrix([[0, 1, 2], [0, 1, 3], [0, 4, 5], [0, 1, 6], [7]], 8)
    members3 = np.array([0, 1, 2])
    none = [np.empty(0, dtype=np.int64)] * 3
    # Three members: two of them suffice (0 by all, 1 by two); 3, 4 and 5 have one listener each.
    assert p3.group_truth(plays, members3, none).tolist() == [0, 1]
    # Five members: three are needed. Artist 0 has four listeners, artist 1 three; nothing else.
    members5 = np.array([0, 1, 2, 3, 4])
    assert p3.group_truth(plays, members5, [np.empty(0, dtype=np.int64)] * 5).tolist() == [0, 1]
    # Four members (0, 1, 2, 4): half is two, so artist 1 (members 0 and 1) is in.
    assert p3.group_truth(plays, np.array([0, 1, 2, 4]), [np.empty(0, dtype=np.int64)] * 4).tolist() == [0, 1]
    # Everyone's likes come out, whoever liked them.
    assert p3.group_truth(plays, members3, [np.array([0]), np.empty(0, np.int64), np.empty(0, np.int64)]).tolist() == [
        1
    ]
    # No artist shared: empty truth (such groups are skipped by the draw).
    assert p3.group_truth(plays, np.array([2, 4]), none[:2]).size == 0


# -- friendships ------------------------------------------------------------------------------------


def test_friendship_matrix_is_symmetric_binary_and_drops_strangers() -> None:
    interactions = Interactions(
        user_keys=np.array(["lastfm:2", "lastfm:5", "lastfm:9"]),
        artist_ids=np.array([1, 2]),
        plays=sp.csr_matrix((3, 2)),
    )
    # 2-5 listed both ways, 5-9 one way, 9-77 has a user without plays, 2-2 is a self-loop.
    friends = p3.friendship_matrix(interactions, [2, 5, 5, 9, 2], [5, 2, 9, 77, 2])
    dense = friends.toarray()
    np.testing.assert_array_equal(dense, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


# -- drawing groups ---------------------------------------------------------------------------------


def synthetic(n_users: int = 80, n_items: int = 60, seed: int = 3) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Users with 6 to 30 artists from a shared pool of 20 popular ones, and a random friend graph."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_users, n_items), dtype=np.float32)
    for user in range(n_users):
        count = int(rng.integers(6, 31))
        pool = np.concatenate([np.arange(20), rng.choice(np.arange(20, n_items), size=20, replace=False)])
        dense[user, rng.choice(pool, size=count, replace=False)] = rng.integers(1, 300, size=count)
    links = np.triu(rng.random((n_users, n_users)) < 0.08, 1)
    friends = sp.csr_matrix((links | links.T).astype(np.float32))
    return sp.csr_matrix(dense), friends


def test_draw_groups_follows_the_rules() -> None:
    plays, friends = synthetic()
    groups = p3.draw_groups(plays, friends, seed=0, sizes=(2, 3, 4, 5), per_size=8)
    counts = np.diff(plays.indptr)
    assert [g.size for g in groups] == [2] * 8 + [3] * 8 + [4] * 8 + [5] * 8
    keys = set()
    for group in groups:
        anchor, others = group.members[0], group.members[1:]
        assert np.unique(group.members).size == group.size
        assert all(friends[anchor, other] for other in others), "every other member is a friend of the anchor"
        assert np.all(counts[group.members] >= p3.MIN_ARTISTS)
        for member, likes in zip(group.members, group.likes):
            assert likes.size == p3.GROUP_LIKES and np.unique(likes).size == p3.GROUP_LIKES
            assert np.all(np.isin(likes, artists_of(plays, member)))
        assert group.truth.size > 0
        np.testing.assert_array_equal(group.truth, p3.group_truth(plays, group.members, group.likes))
        keys.add(frozenset(group.members.tolist()))
    assert len(keys) == len(groups), "no member set drawn twice"


def test_draw_groups_is_deterministic_per_seed() -> None:
    plays, friends = synthetic()
    first, again, other = (p3.draw_groups(plays, friends, seed=s, per_size=5) for s in (1, 1, 2))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.members, b.members)
        for x, y in zip(a.likes, b.likes, strict=True):
            np.testing.assert_array_equal(x, y)
    assert [g.members.tolist() for g in first] != [g.members.tolist() for g in other]


def test_users_without_enough_eligible_friends_are_never_drawn() -> None:
    plays, friends = synthetic()
    dense = plays.toarray()
    small = np.arange(0, 80, 2)  # every even user keeps only 4 artists: too few for 5 likes + 5
    for user in small:
        dense[user, np.flatnonzero(dense[user])[4:]] = 0
    plays = sp.csr_matrix(dense)
    groups = p3.draw_groups(plays, friends, seed=0, sizes=(2, 5), per_size=10)
    members = np.concatenate([g.members for g in groups])
    assert not np.isin(members, small).any()


def test_a_size_with_no_possible_group_gives_none_rather_than_spinning() -> None:
    plays, friends = synthetic()
    groups = p3.draw_groups(plays, friends, seed=0, sizes=(40,), per_size=3)
    assert groups == []


def test_held_out_batches_cover_every_group_once_under_the_cap() -> None:
    plays, friends = synthetic()
    groups = p3.draw_groups(plays, friends, seed=0, per_size=10)
    batches = p3.held_out_batches(groups, max_members=12)
    assert [i for batch in batches for i in batch] == list(range(len(groups)))
    assert len(batches) > 1
    for batch in batches:
        members = set(np.concatenate([groups[i].members for i in batch]).tolist())
        assert len(members) <= 12


def test_every_member_is_held_out_of_the_model_that_serves_their_group(monkeypatch) -> None:
    plays, friends = synthetic()
    trained: list[sp.csr_matrix] = []
    real_make_model = p3.make_model

    def recording_make_model(name: str):
        model = real_make_model(name)
        fit = model.fit

        def recorded_fit(train, *args, **kwargs):
            trained.append(sp.csr_matrix(train))
            return fit(train, *args, **kwargs)

        model.fit = recorded_fit
        return model

    monkeypatch.setattr(p3, "make_model", recording_make_model)
    monkeypatch.setattr(p3, "HELD_OUT_SHARE", 0.15)  # 12 of 80 users per batch
    results = p3.evaluate_groups(plays, friends, [0], LIKE_PLAYS, groups_per_size=4)
    groups = p3.draw_groups(plays, friends, seed=0, per_size=4)
    batches = p3.held_out_batches(groups, max_members=12)
    assert results["fits"] == len(batches) == len(trained) > 1
    for batch, train in zip(batches, trained, strict=True):
        members = np.unique(np.concatenate([groups[i].members for i in batch]))
        keep = np.setdiff1d(np.arange(plays.shape[0]), members)
        assert train.shape == (plays.shape[0] - members.size, plays.shape[1])
        assert (train != plays[keep]).nnz == 0


# -- a small run on the real data --------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_results(lastfm_dataset) -> dict:
    from recommender.training import lastfm_interactions

    interactions = lastfm_interactions(lastfm_dataset)
    friends = p3.friendship_matrix(interactions, lastfm_dataset.friends["user_id"], lastfm_dataset.friends["friend_id"])
    assert friends.nnz == len(lastfm_dataset.friends)  # HetRec lists every friendship both ways
    return p3.evaluate_groups(interactions.plays, friends, [0], LIKE_PLAYS, groups_per_size=10)


@pytest.mark.slow
def test_real_run_json_shape(real_results: dict) -> None:
    results = json.loads(json.dumps(real_results))
    assert results["protocol"] == "groups" and results["seeds"] == [0] and results["k"] == 10
    assert results["groups_drawn"] == {"2": [10], "3": [10], "4": [10], "5": [10]}
    assert set(results["models"]) == set(p3.MODEL_NAMES)
    assert {
        "encore-blend",
        "most-popular",
        "merged-lists",
        "blend-average",
        "blend-least-misery",
        "blend-borda",
    } <= set(results["models"])
    for name, metrics in results["models"].items():
        assert set(metrics) == {"ndcg@10", "precision@10", "recall@10", "map@10", "groups"}
        assert metrics["groups"] == 40
        assert 0.0 <= metrics["recall@10"] <= 1.0 and 0.0 <= metrics["ndcg@10"] <= 1.0
        assert set(results["per_size"][name]) == {"2", "3", "4", "5"}
        assert all(m["groups"] == 10 for m in results["per_size"][name].values())
    default = results["default"]
    assert results["models"]["encore-blend"] == results["models"][f"blend-{default['strategy']}"]
    assert set(results["blend_ms_median"]) == {"2", "3", "4", "5"}


@pytest.mark.slow
def test_real_run_blend_beats_the_baselines(real_results: dict) -> None:
    models = real_results["models"]
    assert models["encore-blend"]["recall@10"] > 1.5 * models["most-popular"]["recall@10"]
    assert models["encore-blend"]["recall@10"] > models["merged-lists"]["recall@10"]
    assert models["encore-blend"]["recall@10"] > models["blend-least-misery"]["recall@10"]
