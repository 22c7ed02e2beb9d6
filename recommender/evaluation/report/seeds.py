"""One P1 seed: fitting a model on its training split and measuring it, then the summary over seeds."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.cpu.bpr import BayesianPersonalizedRanking

from recommender.debias import listener_counts, normalised_log_popularity
from recommender.evaluation.beyond import POPULARITY_GROUPS, beyond_accuracy, popularity_groups, top_fifth
from recommender.evaluation.fairness import (
    USER_GROUPS,
    confidence_interval,
    exposure_against_listening,
    gap,
    group_means,
)
from recommender.evaluation.metrics import per_user_metrics, ranking_metrics
from recommender.evaluation.protocols import K, recommend_in_batches
from recommender.models import ALSRecommender, BPRRecommender, Recommender
from recommender.models.registry import make_model


def fit_model(name: str, train: sp.csr_matrix) -> Recommender:
    if name == "bpr":
        return _fit_bpr_single_thread(train)
    return make_model(name).fit(train)


def _fit_bpr_single_thread(train: sp.csr_matrix) -> BPRRecommender:
    """BPR as the registry configures it, on one thread: implicit's multi-threaded BPR updates shared
    factors without locks (Hogwild), so its result changes from run to run; on one it does not."""
    model = BPRRecommender()
    binary = sp.csr_matrix(train, dtype=np.float32, copy=True)
    binary.data = (binary.data > 0).astype(np.float32)
    bpr = BayesianPersonalizedRanking(
        factors=model.factors, iterations=model.iterations, random_state=model.random_state, num_threads=1
    )
    bpr.fit(binary, show_progress=False)
    model.user_factors, model.item_factors = np.asarray(bpr.user_factors), np.asarray(bpr.item_factors)
    return model


class SeedContext:
    """Everything one P1 seed measures a fitted model against."""

    def __init__(
        self,
        *,
        train: sp.csr_matrix,
        test: sp.csr_matrix,
        users: np.ndarray,
        seed: int,
        regions: dict[str, np.ndarray],
        user_groups: dict[str, np.ndarray],
        rmse_negatives: int,
    ) -> None:
        self.train, self.test, self.users, self.seed = train, test, users, seed
        self.regions, self.user_groups = regions, user_groups
        self.listeners = listener_counts(train)
        self.popularity = normalised_log_popularity(self.listeners)
        self.item_groups = popularity_groups(self.listeners)
        self.top_fifth = top_fifth(self.listeners)
        self.rmse_pairs = _rmse_pairs(train=train, test=test, users=users, seed=seed, negatives=rmse_negatives)

    def measure(self, model: Recommender, with_groups: bool = True) -> dict:
        top = recommend_in_batches(model, self.train[self.users], K, users=self.users)
        truth = self.test[self.users]
        result: dict = {"seed": self.seed} | ranking_metrics(top, truth, K)
        result |= beyond_accuracy(top, self.listeners, self.item_groups, K)
        result |= {
            f"listening_{name}": float(self.listeners[self.item_groups == g].sum() / self.listeners.sum())
            for g, name in enumerate(POPULARITY_GROUPS)
        }
        result["head_artists"] = float(np.sum(self.item_groups == 0))
        result["top_fifth_artists"] = float(np.sum(self.top_fifth))
        result["top_fifth_min_listeners"] = float(self.listeners[self.top_fifth].min())
        if isinstance(model, ALSRecommender):
            result |= _rmse(model, self.rmse_pairs)
        if with_groups:
            per_user = per_user_metrics(top, truth, K)
            result["user_groups"] = {
                grouping: {metric: group_means(per_user[metric], groups).tolist() for metric in ("ndcg", "recall")}
                for grouping, groups in self.user_groups.items()
            }
            result["regions"] = {
                region: exposure_against_listening(top, members, self.listeners, K)
                for region, members in self.regions.items()
            }
        return result


def _rmse_pairs(
    *, train: sp.csr_matrix, test: sp.csr_matrix, users: np.ndarray, seed: int, negatives: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, artists, targets): every held-out pair with target 1, and `negatives` per positive
    pairs drawn uniformly from the pairs the user never played (in train or test), target 0."""
    positives = sp.coo_matrix(test[users])
    pos_users, pos_items = users[positives.row], positives.col
    rng = np.random.default_rng(seed)
    played = set(zip(*(train + test).nonzero()))
    wanted = negatives * pos_users.size
    neg_users, neg_items = [], []
    while len(neg_users) < wanted:
        u = rng.choice(users, size=wanted)
        i = rng.integers(0, train.shape[1], size=wanted)
        for a, b in zip(u.tolist(), i.tolist()):
            if (a, b) not in played and len(neg_users) < wanted:
                neg_users.append(a)
                neg_items.append(b)
    all_users = np.concatenate([pos_users, np.asarray(neg_users, dtype=np.int64)])
    all_items = np.concatenate([pos_items, np.asarray(neg_items, dtype=np.int64)])
    targets = np.concatenate([np.ones(pos_users.size), np.zeros(wanted)])
    return all_users, all_items, targets


def _rmse(model: ALSRecommender, pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, float]:
    """RMSE of the predicted preference x_u . y_i against p_ui on `_rmse_pairs`, overall and on each half."""
    users, items, targets = pairs
    assert model.user_factors is not None and model.item_factors is not None
    predicted = np.einsum(
        "ij,ij->i", model.user_factors[users].astype(np.float64), model.item_factors[items].astype(np.float64)
    )
    error = predicted - targets
    positive = targets == 1
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "rmse_positives": float(np.sqrt(np.mean(error[positive] ** 2))),
        "rmse_unobserved": float(np.sqrt(np.mean(error[~positive] ** 2))),
    }


def summarise(runs: list[dict]) -> dict:
    """Mean and 95 % interval over seeds of each number; user-group and regional results folded in."""
    numbers = [key for key, value in runs[0].items() if isinstance(value, float)]
    summary: dict = {"mean": {key: float(np.mean([r[key] for r in runs])) for key in numbers}}
    summary["interval"] = {key: confidence_interval(r[key] for r in runs) for key in numbers}
    summary["per_seed"] = [{key: r[key] for key in ["seed", *numbers]} for r in runs]
    if "user_groups" in runs[0]:
        summary["fairness"] = _fairness(runs)
        summary["regions"] = {
            region: {
                key: float(np.mean([r["regions"][region][key] for r in runs])) for key in runs[0]["regions"][region]
            }
            for region in runs[0]["regions"]
        }
    return summary


def _fairness(runs: list[dict]) -> dict:
    out: dict = {}
    for grouping in runs[0]["user_groups"]:
        by_metric = {
            metric: np.array([r["user_groups"][grouping][metric] for r in runs]) for metric in ("ndcg", "recall")
        }
        out[grouping] = {
            f"{metric}@10": {group: confidence_interval(values[:, g]) for g, group in enumerate(USER_GROUPS)}
            for metric, values in by_metric.items()
        }
        out[grouping]["demographic_parity_gap"] = confidence_interval(gap(row) for row in by_metric["ndcg"])
        out[grouping]["equal_opportunity_gap"] = confidence_interval(gap(row) for row in by_metric["recall"])
    return out
