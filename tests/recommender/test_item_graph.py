"""The co-listening graph (RP3beta) sessions mix in, on small planted matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender import item_graph
from recommender.engine import Engine
from recommender.evaluation.sessions import column_catalogue
from recommender.interactions import Interactions
from recommender.item_graph import ItemGraph, graph_of
from recommender.models.als import ALSConfig, ALSRecommender
from recommender.sessions import SessionVote, graph_values, next_pick, session_tastes

CLUSTERS = 4
PER_CLUSTER = 3
LISTENERS_PER_CLUSTER = 12


def planted_plays() -> sp.csr_matrix:
    """Each user plays the three artists of one cluster (artists 3c, 3c + 1, 3c + 2), nothing else."""
    rows, cols = [], []
    for cluster in range(CLUSTERS):
        for listener in range(LISTENERS_PER_CLUSTER):
            user = cluster * LISTENERS_PER_CLUSTER + listener
            for artist in range(cluster * PER_CLUSTER, (cluster + 1) * PER_CLUSTER):
                rows.append(user)
                cols.append(artist)
    shape = (CLUSTERS * LISTENERS_PER_CLUSTER, CLUSTERS * PER_CLUSTER)
    return sp.csr_matrix((np.full(len(rows), 20.0, dtype=np.float32), (rows, cols)), shape=shape)


def test_a_liked_artist_raises_the_artists_its_listeners_play_and_nothing_else() -> None:
    scores = ItemGraph.from_plays(planted_plays()).scores(np.array([4]))
    assert scores[3] > 0 and scores[5] > 0
    assert np.all(scores[np.r_[0:3, 6:12]] == 0)


def test_beta_lowers_what_everyone_plays() -> None:
    plays = planted_plays().tolil()
    everyone = 0
    plays[:, everyone] = 20.0  # artist 0 is now played by every user
    graph = ItemGraph.from_plays(plays.tocsr())
    # Liked in two clusters, artist 0 is reached from both: it wins the walk, until divided by its listeners.
    liked = np.array([1, 4])
    flat, damped = graph.scores(liked, beta=0.0), graph.scores(liked, beta=1.0)
    assert flat[everyone] > flat[2]
    assert damped[everyone] < damped[2]


def test_without_beta_a_walk_is_a_probability_even_when_listeners_are_capped(monkeypatch) -> None:
    graph = ItemGraph.from_plays(planted_plays())
    assert np.isclose(graph.scores(np.array([0, 4]), beta=0.0).sum(), 2.0)
    monkeypatch.setattr(item_graph, "MAX_LISTENERS", 5)
    capped = graph.scores(np.array([0, 4]), beta=0.0)
    assert np.isclose(capped.sum(), 2.0)
    assert capped[1] > 0 and capped[3] > 0


def test_an_artist_nobody_plays_scores_nothing() -> None:
    plays = sp.hstack([planted_plays(), sp.csr_matrix((CLUSTERS * LISTENERS_PER_CLUSTER, 1))], format="csr")
    assert not ItemGraph.from_plays(plays).scores(np.array([CLUSTERS * PER_CLUSTER])).any()


def test_the_graph_is_built_once_per_matrix() -> None:
    first, second = planted_plays(), planted_plays()
    assert graph_of(first) is graph_of(first)
    assert graph_of(second) is not graph_of(first)


@dataclass(frozen=True)
class Taste:
    liked: tuple[int, ...]
    not_interested: tuple[int, ...] = ()
    plays: tuple[float | None, ...] | None = None


def planted_engine() -> Engine:
    plays = planted_plays()
    model = ALSRecommender(ALSConfig(factors=4, regularization=1.0, iterations=5)).fit(plays)
    keys = np.array([f"user:{row}" for row in range(plays.shape[0])])
    interactions = Interactions(keys, np.arange(plays.shape[1]), plays)
    return Engine(model, interactions, column_catalogue(plays.shape[1]))


def test_an_into_it_raises_the_hit_artists_neighbours_for_that_member_only() -> None:
    engine = planted_engine()
    tastes = {"ann": Taste((0,)), "ben": Taste((6,))}
    hit = [SessionVote("ann", 3, True), SessionVote("ben", 3, False)]
    before = graph_values(engine, session_tastes(tastes, []))
    after = graph_values(engine, session_tastes(tastes, hit))
    assert np.all(after[0, [4, 5]] > before[0, [4, 5]])
    assert np.allclose(after[1], before[1])


def test_after_an_into_it_the_graph_picks_from_the_liked_and_the_hit_artists_clusters() -> None:
    engine = planted_engine()
    tastes = {"ann": Taste((0,))}
    votes = [SessionVote("ann", 3, True)]
    pick = next_pick(engine, tastes, votes=votes, proposed=[3], graph_weight=1.0)
    assert pick is not None
    assert pick.artist.artist_id in {1, 2, 4, 5}
