"""Which artists were placed from similar ones, and their tags, kept in the snapshot folder across restarts.

A placed artist (recommender/placement.py) is served before any refit learns it; a restart, or a snapshot
served that was fitted before it was added, must place it again without asking Last.fm anew. The book is
one small JSON file beside the snapshots (artist ids, matches and tags: nothing about any member), read
at start and rewritten atomically on every change. Processes sharing the folder merge their entries
into it rather than overwrite each other's.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from recommender.placement import Neighbour

log = logging.getLogger(__name__)

__all__ = ["PLACEMENTS_FILE", "Placement", "PlacementBook"]

PLACEMENTS_FILE: Final = "placements.json"
_FORMAT: Final = 1


@dataclass(frozen=True)
class Placement:
    """An artist's similar artists (known to the catalogue, best match first) and its music types."""

    neighbours: tuple[Neighbour, ...]
    tags: tuple[str, ...] = ()


class PlacementBook:
    """Placed artist id -> `Placement`; kept in `directory` (None: in memory only)."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / PLACEMENTS_FILE if directory is not None else None
        self.entries: dict[int, Placement] = {}
        self._dropped: set[int] = set()

    def load(self) -> None:
        """Merge in the file, if any (what other processes placed, too); a damaged one is ignored (logged),
        and its artists wait for a refit."""
        self.merge(self.read())

    def read(self) -> dict[int, Placement]:
        """The file's entries (blocking: in a worker thread, then `merge` them on the loop)."""
        return _read(self.path) if self.path is not None else {}

    def merge(self, stored: dict[int, Placement]) -> None:
        """Take in entries read from the file; this process's own, and its drops, win."""
        fresh = {a: p for a, p in stored.items() if a not in self._dropped and a not in self.entries}
        self.entries.update(fresh)

    def record(self, artist_id: int, placement: Placement) -> None:
        self.entries[int(artist_id)] = placement
        self._dropped.discard(int(artist_id))

    def drop(self, artist_ids: Iterable[int]) -> None:
        """Forget these artists' placements (deleted artists), here and, at the next `save`, in the file."""
        for artist_id in map(int, artist_ids):
            self.entries.pop(artist_id, None)
            self._dropped.add(artist_id)

    def saver(self) -> Callable[[], None]:
        """`save` of the book as it is now, to run in a worker thread while the book changes on."""
        return functools.partial(self._write, dict(self.entries), frozenset(self._dropped))

    def save(self) -> None:
        """Merge into the file what this process recorded and dropped, atomically (blocking)."""
        self._write(self.entries, frozenset(self._dropped))

    def _write(self, entries: dict[int, Placement], dropped: frozenset[int]) -> None:
        if self.path is None:
            return
        merged = {a: p for a, p in _read(self.path).items() if a not in dropped}
        merged.update(entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "format": _FORMAT,
            "artists": {
                str(a): {"neighbours": [[n.artist_id, n.match] for n in p.neighbours], "tags": list(p.tags)}
                for a, p in sorted(merged.items())
            },
        }
        handle, staging = tempfile.mkstemp(prefix=".placements-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(body, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(staging, self.path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise


def _read(path: Path) -> dict[int, Placement]:
    try:
        body: Any = json.loads(path.read_text(encoding="utf-8"))
        if body.get("format") != _FORMAT:
            raise ValueError(f"format {body.get('format')!r}")
        return {
            int(artist_id): Placement(
                tuple(Neighbour(int(a), float(m)) for a, m in entry["neighbours"]),
                tuple(str(t) for t in entry.get("tags", ())),
            )
            for artist_id, entry in body["artists"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("ignored %s (%s: %s); placed artists wait for a refit", path, type(error).__name__, error)
        return {}
