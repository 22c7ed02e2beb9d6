"""Recommendation models: a small abstract base and its implementations."""

from recommender.models.als import ALSConfig, ALSRecommender
from recommender.models.base import Recommender
from recommender.models.baselines import BPRRecommender, ItemKNNRecommender, MostPopular

__all__ = [
    "ALSConfig",
    "ALSRecommender",
    "BPRRecommender",
    "ItemKNNRecommender",
    "MostPopular",
    "Recommender",
]
