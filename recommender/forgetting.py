"""Forgetting users and artists in fitted snapshots without refitting.

A snapshot holds every user's row of the matrix, their fitted factors and the names of the artists
members added (`recommender.snapshot`). `without` drops some users' rows and some artists' columns
from all of these at once; `save_without` writes the result as a new snapshot. `holds` tells whether a
loaded snapshot has any of them, and `mentions`, cheaply, whether a snapshot on disk does.

Removing a row leaves every other factor as fitted: the other users' recommendations change only at
the next refit, when the model is fitted again without the forgotten rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from recommender.interactions import Interactions
from recommender.models.als import ALSRecommender
from recommender.snapshot import (
    META_FILE,
    MODEL_FILE,
    SAVED_META_KEYS,
    Snapshot,
    SnapshotError,
    load_snapshot,
    save_snapshot,
)

#: The model arrays with one row per user and one per artist; any other array is refused rather than
#: copied, since it could hold a forgotten user.
_USER_ARRAYS = frozenset({"user_factors"})
_ARTIST_ARRAYS = frozenset({"item_factors", "idf"})


def without(snapshot: Snapshot, user_keys: Iterable[str] = (), artist_ids: Iterable[int] = ()) -> Snapshot:
    """A copy of `snapshot` without these users' rows and these artists' columns, their factors and
    their names in meta.json; unknown keys and ids are ignored. Not saved: `path` is None."""
    interactions = snapshot.interactions
    drop_rows = interactions.rows_of(user_keys)
    drop_ids = {int(a) for a in artist_ids}
    drop_columns = interactions.artist_columns(sorted(drop_ids))
    keep_rows = np.setdiff1d(np.arange(interactions.shape[0]), drop_rows)
    keep_columns = np.setdiff1d(np.arange(interactions.shape[1]), drop_columns)
    kept = Interactions(
        user_keys=interactions.user_keys[keep_rows],
        artist_ids=interactions.artist_ids[keep_columns],
        plays=interactions.plays[keep_rows][:, keep_columns].tocsr(),
    )
    meta = {key: value for key, value in snapshot.meta.items() if key not in SAVED_META_KEYS}
    if "member_artists" in meta:
        meta["member_artists"] = [entry for entry in meta["member_artists"] if int(entry[0]) not in drop_ids]
    meta["rewritten_from"] = snapshot.version
    return Snapshot(model=_model_without(snapshot.model, drop_rows, drop_columns), interactions=kept, meta=meta)


def holds(snapshot: Snapshot, user_keys: Iterable[str] = (), artist_ids: Iterable[int] = ()) -> bool:
    """Whether the loaded `snapshot` has a row for any of these users, or a column or name for any of
    these artists."""
    interactions = snapshot.interactions
    if interactions.rows_of(user_keys).size:
        return True
    ids = {int(a) for a in artist_ids}
    return bool(interactions.artist_columns(sorted(ids)).size) or any(a in ids for a, _, _ in snapshot.member_artists)


def save_without(
    snapshot: Snapshot, directory: Path, user_keys: Iterable[str] = (), artist_ids: Iterable[int] = ()
) -> Snapshot:
    """`without`, saved as a new snapshot (a new, later version) under `directory` and loaded back,
    so its checksum is verified like any other snapshot's."""
    reduced = without(snapshot, user_keys, artist_ids)
    return load_snapshot(save_snapshot(directory, reduced.model, reduced.interactions, reduced.meta))


def mentions(path: Path, user_keys: Iterable[str] = (), artist_ids: Iterable[int] = ()) -> bool:
    """Whether the snapshot at `path` holds any of these users or artists, reading only meta.json and
    the matrix's row keys and column ids. True when it cannot be read: it may well hold them."""
    keys = np.array([str(k) for k in user_keys], dtype=str)
    ids = np.array([int(a) for a in artist_ids], dtype=np.int64)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        named = {int(entry[0]) for entry in meta.get("member_artists", [])}
        if named.intersection(ids.tolist()):
            return True
        with np.load(path / MODEL_FILE, allow_pickle=False) as archive:
            if keys.size and np.isin(archive["interactions.user_keys"].astype(str), keys).any():
                return True
            return bool(ids.size and np.isin(archive["interactions.artist_ids"], ids).any())
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return True


def _model_without(model: ALSRecommender, rows: np.ndarray, columns: np.ndarray) -> ALSRecommender:
    arrays = model.arrays()
    unknown = set(arrays) - _USER_ARRAYS - _ARTIST_ARRAYS
    if unknown:
        raise SnapshotError(f"cannot remove rows from a model with arrays {', '.join(sorted(unknown))}")
    kept = {}
    for name, values in arrays.items():
        # idf may be shorter than the matrix is wide (see Weighting: the columns past it get the rarest idf).
        drop = rows if name in _USER_ARRAYS else columns[columns < values.shape[0]]
        kept[name] = np.delete(values, drop, axis=0)
    return type(model).restore(model.parameters(), kept)
