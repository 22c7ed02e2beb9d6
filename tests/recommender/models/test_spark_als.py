"""The Spark MLlib trainer: Spark's factors in an ordinary ALSRecommender, in the matrix's order,
saved and served like any other; and on the real data, P1 quality close to implicit's.

Everything here but the registry's message needs pyspark and Java (the `spark_als` fixture skips
without them, and fails under CI=true).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.catalogue import ArtistCatalogue
from recommender.engine import Engine
from recommender.interactions import Interactions
from recommender.models import ALSConfig, ALSRecommender
from recommender.models.registry import make_model
from recommender.snapshot import load_snapshot, save_snapshot
from recommender.weighting import Weighting
from tests.helpers.matrices import planted_clusters
from tests.helpers.paths import REPO_ROOT

CONFIG = ALSConfig(factors=8, regularization=1.0, iterations=10, random_state=0)
N_USERS, N_ITEMS, CLUSTERS = 60, 40, 3


@pytest.fixture(scope="module")
def data():
    return planted_clusters(n_users=N_USERS, n_items=N_ITEMS, clusters=CLUSTERS, p_in=0.8, seed=0)


@pytest.fixture(scope="module")
def model(spark_als, data) -> ALSRecommender:
    plays, _, _ = data
    return spark_als.SparkALSTrainer(CONFIG).fit(plays)


@pytest.fixture(scope="module")
def interactions(data) -> Interactions:
    plays, _, _ = data
    keys = np.array([f"lastfm:{user + 1}" for user in range(N_USERS)])
    return Interactions(user_keys=keys, artist_ids=np.arange(N_ITEMS, dtype=np.int64) * 10 + 7, plays=plays)


@pytest.fixture(scope="module")
def catalogue(interactions: Interactions, data) -> ArtistCatalogue:
    _, _, item_cluster = data
    artists = pd.DataFrame(
        {
            "artist_id": interactions.artist_ids,
            "name": [f"Artist {column} of cluster {item_cluster[column]}" for column in range(N_ITEMS)],
        }
    )
    listeners = dict(
        zip(interactions.artist_ids.tolist(), np.diff(interactions.plays.tocsc().indptr).tolist(), strict=True)
    )
    return ArtistCatalogue(artists, listeners)


# -- the fitted model -----------------------------------------------------------------------------


@pytest.mark.spark
def test_an_als_recommender_with_spark_factors_of_the_configured_shape(model: ALSRecommender) -> None:
    assert type(model) is ALSRecommender and model.config == CONFIG
    assert model.user_factors.shape == (N_USERS, CONFIG.factors)
    assert model.item_factors.shape == (N_ITEMS, CONFIG.factors)
    assert model.user_factors.dtype == np.float32 and np.all(np.isfinite(model.item_factors))


@pytest.mark.spark
def test_weighting_is_the_one_implicit_training_sets(model: ALSRecommender, data) -> None:
    plays, _, _ = data
    implicit_fitted = ALSRecommender(CONFIG).fit(plays)
    assert model.weighting.parameters() == implicit_fitted.weighting.parameters()
    np.testing.assert_array_equal(model.weighting.idf, implicit_fitted.weighting.idf)
    np.testing.assert_array_equal(model.weighting.idf, Weighting.fit(plays, "bm25", CONFIG.k1, CONFIG.b).idf)


@pytest.mark.spark
def test_factors_are_in_the_matrix_row_and_column_order(model: ALSRecommender, data) -> None:
    """Users and artists of a cluster are interleaved (u % 3), so factors out of order would break both."""
    plays, user_cluster, item_cluster = data
    ids, _ = model.recommend(plays, 1, users=np.arange(N_USERS))
    known = plays.toarray() > 0
    # The top pick is an unheard artist of the user's own cluster, i.e. one their neighbours play.
    users = [u for u in range(N_USERS) if (~known[u] & (item_cluster == user_cluster[u])).any()]
    hits = [item_cluster[ids[u, 0]] == user_cluster[u] for u in users]
    assert len(users) > 40 and np.mean(hits) > 0.85
    scores = model.score(plays, users=np.arange(N_USERS))
    for user in range(N_USERS):
        own = item_cluster == user_cluster[user]
        assert scores[user, own].mean() > scores[user, ~own].mean()


@pytest.mark.spark
def test_fitted_user_factors_agree_with_encores_exact_solve(model: ALSRecommender, data) -> None:
    """What serves a member without refit (the exact solve on Spark's artist factors) ranks like the
    user factors Spark fitted: a user's factors matched to another user's row would not."""
    plays, _, _ = data
    fitted = model.score(plays, users=np.arange(N_USERS))
    solved = model.score(plays)
    correlations = [np.corrcoef(fitted[user], solved[user])[0, 1] for user in range(N_USERS)]
    assert np.median(correlations) > 0.95 and min(correlations) > 0.8


@pytest.mark.spark
def test_same_seed_same_factors_and_one_session_for_every_fit(spark_als, model: ALSRecommender, data) -> None:
    plays, _, _ = data
    session = spark_als.spark_session()
    again = spark_als.SparkALSTrainer(CONFIG).fit(plays)
    assert spark_als.spark_session() is session
    np.testing.assert_allclose(again.item_factors, model.item_factors, rtol=1e-5, atol=1e-6)


@pytest.mark.spark
def test_warm_start_is_refused(spark_als, data) -> None:
    plays, _, _ = data
    trainer = spark_als.SparkALSTrainer(CONFIG)
    assert trainer.name == "spark" and not trainer.warm_starts
    with pytest.raises(ValueError, match="cannot start from given factors"):
        trainer.fit(plays, initial=(np.zeros((N_USERS, 8)), np.zeros((N_ITEMS, 8))))


# -- served like any snapshot ---------------------------------------------------------------------


@pytest.mark.spark
def test_snapshot_round_trip_serves_the_same_recommendations(
    model: ALSRecommender, interactions: Interactions, catalogue: ArtistCatalogue, data, tmp_path: Path
) -> None:
    _, _, item_cluster = data
    path = save_snapshot(tmp_path, model, interactions, {"trainer": "spark"})
    snapshot = load_snapshot(path)
    loaded = snapshot.model
    assert type(loaded) is ALSRecommender and snapshot.meta["model"] == "als" and snapshot.meta["trainer"] == "spark"
    np.testing.assert_array_equal(loaded.user_factors, model.user_factors)
    np.testing.assert_array_equal(loaded.item_factors, model.item_factors)
    assert loaded.weighting.parameters() == model.weighting.parameters()
    np.testing.assert_array_equal(loaded.weighting.idf, model.weighting.idf)

    liked = interactions.artist_ids[item_cluster == 0][:3].tolist()
    before = Engine(model, interactions, catalogue).recommend_for_likes(liked, 5)
    engine = Engine(loaded, snapshot.interactions, catalogue)
    after = engine.recommend_for_likes(liked, 5)
    assert [(r.artist.artist_id, r.score, r.because) for r in after] == [
        (r.artist.artist_id, r.score, r.because) for r in before
    ]
    assert len(after) == 5 and not {r.artist.artist_id for r in after} & set(liked)
    # Liking three artists of cluster 0 brings the rest of cluster 0 first.
    clusters = [item_cluster[interactions.artist_column(r.artist.artist_id)] for r in after]
    assert clusters[:3] == [0, 0, 0]
    # The reasons of each recommendation add up to its score, as for an implicit-fitted model.
    row = engine.likes_row(liked)
    for result in after:
        _, shares = loaded.contributions(row, interactions.artist_column(result.artist.artist_id))
        assert np.isclose(shares.sum(), result.score, rtol=1e-4)


# -- the registry ---------------------------------------------------------------------------------


def test_registry_says_how_to_install_spark_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "recommender.models.spark_als", None)  # import fails as without pyspark
    with pytest.raises(ValueError, match=r"encore-spark needs the spark extra: pip install 'encore\[spark\]'"):
        make_model("encore-spark")


@pytest.mark.spark
def test_registry_builds_a_spark_fitted_als(spark_als, data) -> None:
    plays, _, _ = data
    model = make_model("encore-spark")
    assert isinstance(model, spark_als.SparkFittedALS) and model.name == "als"
    assert model.trainer.config == ALSConfig()
    assert model.fit(plays) is model and model.item_factors.shape == (N_ITEMS, ALSConfig().factors)


@pytest.mark.spark
def test_import_without_java_says_so(spark_als, tmp_path: Path) -> None:
    environment = os.environ | {"JAVA_HOME": str(tmp_path)}  # a JAVA_HOME with no bin/java in it
    result = subprocess.run(
        [sys.executable, "-c", "import recommender.models.spark_als"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "ImportError: Spark needs a Java runtime (17 or newer) and found none" in result.stderr


# -- real data ------------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.slow
def test_p1_quality_within_ten_percent_of_implicit(spark_als, lastfm_dataset) -> None:
    from recommender.evaluation.protocols import evaluate_p1
    from recommender.training import lastfm_interactions

    plays = lastfm_interactions(lastfm_dataset).plays
    results = evaluate_p1(plays, [0], ["encore-als", "encore-spark"])["models"]
    implicit_ndcg, spark_ndcg = results["encore-als"]["ndcg@10"], results["encore-spark"]["ndcg@10"]
    assert spark_ndcg >= 0.9 * implicit_ndcg, (spark_ndcg, implicit_ndcg)
