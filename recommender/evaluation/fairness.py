"""Fairness for users (is the quality the same for every kind of listener?) and for artists (does
each kind of artist get the exposure its listening would suggest?).

User side. Users are split into thirds ("low", "mid", "high") twice:
- by activity: their total play count;
- by mainstreaminess: the cosine between their listening (1 for each artist they play) and the
  artists' global listener counts, i.e. how much of their listening is on artists everyone plays.
Per group we report NDCG@10 and recall@10. The demographic-parity gap is NDCG@10 of the "high" third
minus that of the "low" third (quality should not depend on the group); the equal-opportunity gap is
the same difference for recall@10, the share of each user's held-out artists that is found (the
true-positive rate). A positive gap favours the high third. Confidence intervals are 95 % Student-t
intervals over the seeds' values.

Artist side. For a set of artist groups (popularity head/mid/tail, or regional tags), each group's
share of recommendation slots is set against its share of listening ((user, artist) pairs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import scipy.sparse as sp
from scipy import stats

USER_GROUPS = ("low", "mid", "high")

#: Tags (lower case, exact) that mark an artist's region or language, among its top tags.
REGIONAL_TAGS: dict[str, frozenset[str]] = {
    "japanese": frozenset(
        {
            "japanese",
            "japan",
            "j-pop",
            "j-rock",
            "jpop",
            "jrock",
            "j-music",
            "japanese pop",
            "japanese rock",
            "japanese music",
            "visual kei",
        }
    ),
    "korean": frozenset({"korean", "korea", "k-pop", "kpop", "korean pop"}),
    "brazilian": frozenset(
        {"brazilian", "brazil", "mpb", "brazilian rock", "brazilian music", "brazilian pop", "bossa nova", "samba"}
    ),
    "latin": frozenset(
        {
            "latin",
            "latin pop",
            "latin rock",
            "latino",
            "pop latino",
            "reggaeton",
            "rock en espanol",
            "mexican",
            "mexico",
            "hecho en mexico",
            "salsa",
        }
    ),
    "african": frozenset(
        {
            "african",
            "africa",
            "west african",
            "west africa",
            "north africa",
            "south africa",
            "south african",
            "afrobeat",
        }
    ),
    "french": frozenset({"french", "french pop", "french rock", "chanson", "chanson francaise"}),
    "german": frozenset({"german", "germany", "deutsch", "german hiphop", "german rap", "deutschrap", "deutschrock"}),
    "russian": frozenset({"russian", "russia", "russian rock", "russian pop", "russian alternative"}),
    "polish": frozenset({"polish", "polish rock", "polish music"}),
    "turkish": frozenset({"turkish", "turkce", "turkish rock", "turkish pop", "turk"}),
    "italian": frozenset({"italian", "italy", "italia", "italiana", "italian pop", "italian rock"}),
    "spanish": frozenset({"spanish", "spanish rock", "spanish pop"}),
    "swedish": frozenset({"swedish", "sweden", "swedish pop", "swedish rock"}),
    "finnish": frozenset({"finnish", "finnish rock", "finnish pop", "finnish metal"}),
}
REGION_TOP_TAGS = 5


# -- user groups ----------------------------------------------------------------------------------


def activity(plays: sp.csr_matrix) -> np.ndarray:
    """Total play count per user."""
    return np.asarray(sp.csr_matrix(plays).sum(axis=1)).ravel().astype(np.float64)


def mainstreaminess(plays: sp.csr_matrix) -> np.ndarray:
    """Cosine between each user's binary listening row and the artists' listener counts."""
    binary = sp.csr_matrix(plays, dtype=np.float64, copy=True)
    binary.data = (binary.data > 0).astype(np.float64)
    listeners = np.asarray(binary.sum(axis=0)).ravel()
    norms = np.sqrt(np.asarray(binary.sum(axis=1)).ravel()) * np.linalg.norm(listeners)
    dots = binary @ listeners
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def thirds(values: np.ndarray) -> np.ndarray:
    """0, 1 or 2 per entry: the bottom, middle or top third by value (ties broken by position)."""
    values = np.asarray(values)
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(values.size)
    return ranks * len(USER_GROUPS) // max(values.size, 1)


def group_means(per_user: np.ndarray, groups: np.ndarray, n_groups: int = len(USER_GROUPS)) -> np.ndarray:
    """Mean of `per_user` within each group (nan for an empty group)."""
    sums = np.bincount(groups, weights=per_user, minlength=n_groups)
    counts = np.bincount(groups, minlength=n_groups)
    return np.divide(sums, counts, out=np.full(n_groups, np.nan), where=counts > 0)


def gap(means: np.ndarray) -> float:
    """High third minus low third."""
    return float(means[-1] - means[0])


def confidence_interval(values: Iterable[float], level: float = 0.95) -> dict[str, float]:
    """Mean and Student-t interval over independent runs (seeds); one run gives a zero-width interval."""
    values = np.asarray(list(values), dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return {"mean": mean, "low": mean, "high": mean}
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return {"mean": mean, "low": mean - half, "high": mean + half}


# -- artist groups --------------------------------------------------------------------------------


def regional_membership(
    artist_ids: np.ndarray,
    top_tags: Callable[[int], list[str]],
    regions: Mapping[str, frozenset[str]] = REGIONAL_TAGS,
    n_tags: int = REGION_TOP_TAGS,
) -> dict[str, np.ndarray]:
    """Per region, a boolean per artist column: one of the artist's `n_tags` top tags is the region's.

    Top tags (by distinct tagging users) rather than any tag: one user's stray "german" on an
    American band should not make it German. An artist may belong to several regions, or none."""
    membership = {region: np.zeros(len(artist_ids), dtype=bool) for region in regions}
    for column, artist in enumerate(np.asarray(artist_ids).tolist()):
        tags = {tag.lower() for tag in top_tags(int(artist))[:n_tags]}
        if not tags:
            continue
        for region, marks in regions.items():
            if tags & marks:
                membership[region][column] = True
    return membership


def exposure_against_listening(
    recommended: np.ndarray, members: np.ndarray, listeners: np.ndarray, k: int = 10
) -> dict[str, float]:
    """A group's share of recommendation slots, its share of listening pairs, and their ratio
    (1: exposed as much as it is listened to; below 1: under-exposed)."""
    slots = np.asarray(recommended)[:, :k].ravel()
    slots = slots[slots >= 0]
    recommended_share = float(np.mean(members[slots])) if slots.size else 0.0
    total = float(np.sum(listeners))
    listening_share = float(np.sum(listeners[members]) / total) if total else 0.0
    ratio = recommended_share / listening_share if listening_share else float("nan")
    return {"recommended_share": recommended_share, "listening_share": listening_share, "ratio": ratio}
