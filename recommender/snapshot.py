"""Model snapshots on disk: `model.npz` (plain arrays, no pickle) and `meta.json`, in one directory.

A snapshot is written into a hidden temporary directory beside its final place and renamed into place,
so a reader never sees half a snapshot, even if the writer is killed. `meta.json` records a SHA-256 of
`model.npz`, so a damaged file is refused instead of served.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import socket
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.interactions import Interactions
from recommender.models.als import ALSRecommender

FORMAT_VERSION = 1
MODEL_FILE = "model.npz"
META_FILE = "meta.json"
MODEL_CLASSES = {ALSRecommender.name: ALSRecommender}
USER_FACTORS = "model.user_factors"
#: The meta.json fields `save_snapshot` writes itself from the arrays; a caller's meta overrides them,
#: so meta copied from one snapshot to a new one must leave them out.
SAVED_META_KEYS = (
    "format",
    "version",
    "created",
    "model",
    "parameters",
    "users",
    "artists",
    "interactions",
    "model_sha256",
)


class SnapshotError(Exception):
    """A snapshot is missing, unreadable, damaged or of an unknown format."""


@dataclass
class Snapshot:
    model: ALSRecommender
    interactions: Interactions
    meta: dict[str, Any]
    path: Path | None = None

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @property
    def member_artists(self) -> list[tuple[int, str, str | None]]:
        """(artist_id, name, url) of the columns that are not Last.fm artists."""
        return [(int(i), str(n), u) for i, n, u in self.meta.get("member_artists", [])]


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def staging_prefix(host: str | None = None, pid: int | None = None) -> str:
    """How a snapshot being written is named: its writer's host and process, so a later start on the
    same host can tell a dead writer's leftovers from a live one's work (see `staging_writer_is_gone`)."""
    host = socket.gethostname() if host is None else host
    return f".incoming-{host.replace('-', '_')}-{os.getpid() if pid is None else pid}-"


def staging_writer_is_gone(staging: Path) -> bool:
    """True if `staging` was written by a process of this host that no longer runs."""
    parts = staging.name.split("-")
    if len(parts) < 4 or parts[1] != socket.gethostname().replace("-", "_") or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def save_snapshot(directory: Path, model: ALSRecommender, interactions: Interactions, meta: dict[str, Any]) -> Path:
    """Write a snapshot under `directory/<version>` atomically and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    version = meta.get("version") or new_version()
    target = directory / version
    if target.exists():
        raise SnapshotError(f"snapshot {target} already exists")
    arrays = {f"model.{name}": value for name, value in model.arrays().items()}
    plays = interactions.plays
    arrays |= {
        "interactions.user_keys": interactions.user_keys.astype(str),
        "interactions.artist_ids": interactions.artist_ids.astype(np.int64),
        "interactions.data": plays.data,
        "interactions.indices": plays.indices,
        "interactions.indptr": plays.indptr,
        "interactions.shape": np.array(plays.shape, dtype=np.int64),
    }
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=directory))
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the snapshot from a bot running as another user
        with open(staging / MODEL_FILE, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        full_meta = {
            "format": FORMAT_VERSION,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": model.name,
            "parameters": model.parameters(),
            "users": int(plays.shape[0]),
            "artists": int(plays.shape[1]),
            "interactions": int(plays.nnz),
            "model_sha256": _sha256(staging / MODEL_FILE),
        } | {k: v for k, v in meta.items() if k != "version"}
        with open(staging / META_FILE, "w", encoding="utf-8") as handle:
            json.dump(full_meta, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(staging, target)
        _fsync_directory(directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def load_snapshot(path: Path) -> Snapshot:
    """Load and verify one snapshot directory."""
    meta_path, model_path = path / META_FILE, path / MODEL_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"snapshot {path} has no {META_FILE}") from None
    except (OSError, ValueError) as error:
        raise SnapshotError(f"snapshot {path}: {META_FILE} is unreadable ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot {path} has an unknown format {meta.get('format') if isinstance(meta, dict) else None!r}"
        )
    if not model_path.is_file():
        raise SnapshotError(f"snapshot {path} has no {MODEL_FILE}")
    if _sha256(model_path) != meta.get("model_sha256"):
        raise SnapshotError(f"snapshot {path}: {MODEL_FILE} is damaged (checksum mismatch)")
    model_class = MODEL_CLASSES.get(meta.get("model"))
    if model_class is None:
        raise SnapshotError(f"snapshot {path} holds an unknown model {meta.get('model')!r}")
    try:
        with np.load(model_path, allow_pickle=False) as archive:
            # Not the user factors: a served model never needs them (ALSRecommender.user_factors).
            arrays = {name: archive[name] for name in archive.files if name != USER_FACTORS}
        stored = _strip("interactions.", arrays)
        shape = tuple(int(x) for x in stored["shape"])
        _check_user_factors(model_path, shape[0])
        model = model_class.restore(
            meta["parameters"],
            _strip("model.", arrays),
            read_user_factors=functools.partial(_read_user_factors, model_path, shape[0]),
        )
        interactions = Interactions(
            user_keys=stored["user_keys"],
            artist_ids=stored["artist_ids"],
            plays=sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=shape),
        )
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as error:
        raise SnapshotError(f"snapshot {path} is unreadable ({type(error).__name__}: {error})") from None
    return Snapshot(model=model, interactions=interactions, meta=meta, path=path)


def _check_user_factors(model_path: Path, users: int) -> None:
    """That the user factors, left unread by `load_snapshot`, are a float matrix with one row per user:
    from their header only."""
    with zipfile.ZipFile(model_path) as archive, archive.open(f"{USER_FACTORS}.npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(member)
    if dtype.kind != "f" or len(shape) != 2 or shape[0] != users:
        raise ValueError(f"the user factors are {dtype} {shape}, not floats for {users} users")


def _read_user_factors(model_path: Path, users: int) -> np.ndarray:
    """The user factors of the snapshot whose model file is `model_path` (verified when it was loaded;
    the zip's own checksums still guard this read)."""
    try:
        with np.load(model_path, allow_pickle=False) as archive:
            factors = archive[USER_FACTORS]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise SnapshotError(f"snapshot {model_path.parent}: its user factors are unreadable ({error})") from None
    if factors.ndim != 2 or factors.shape[0] != users:
        raise SnapshotError(f"snapshot {model_path.parent}: its user factors do not match its matrix")
    return factors


def snapshot_paths(directory: Path) -> list[Path]:
    """Snapshot directories, newest first (versions sort by time)."""
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)


def remove_old_snapshots(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots; returns what was deleted.

    The newest few stay so that a process still loading the previous one is not cut short.
    """
    removed = snapshot_paths(directory)[keep:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def load_latest(directory: Path, fingerprint: str | None = None) -> tuple[Snapshot | None, list[str]]:
    """The newest snapshot that loads (and matches `fingerprint`, if given), with why others were skipped."""
    skipped: list[str] = []
    for path in snapshot_paths(directory):
        try:
            snapshot = load_snapshot(path)
        except SnapshotError as error:
            skipped.append(str(error))
            continue
        if fingerprint is not None and snapshot.meta.get("data_fingerprint") != fingerprint:
            skipped.append(f"snapshot {path} was fitted on other data")
            continue
        return snapshot, skipped
    return None, skipped


def _strip(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name[len(prefix) :]: value for name, value in arrays.items() if name.startswith(prefix)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
