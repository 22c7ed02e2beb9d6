"""What the scaled-out end-to-end tests share (tests/bot/e2e/test_shards.py, test_spark_cluster.py).

Both tell one story: members like metal and an artist Last.fm does not know; another member, whose only
like is that artist, gets nothing until a trainer on "another machine" refits and publishes, and then is
recommended metal "because you like" it. Each `encore` process gets a machine's environment: a home of
its own, the database and the snapshot folder shared.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from db.engine import create_engine
from db.store import Store
from tests.support import encore_env

NEW_ARTIST = "Zyzzyx Quartet"
ADD_LABEL = f"Add “{NEW_ARTIST}” as a new artist"
TASTE = ("Metallica", "Slayer", "Megadeth")
#: What a model that learned the TASTE likes recommends to someone who likes only the new artist.
METAL = {
    "Metallica",
    "Slayer",
    "Megadeth",
    "Motörhead",
    "Iron Maiden",
    "Pantera",
    "Anthrax",
    "Sepultura",
    "Testament",
    "Judas Priest",
    "Black Sabbath",
    "Kreator",
    "Exodus",
    "Dio",
}


def snapshot_dir(root: Path) -> Path:
    """The snapshot folder every machine of the deployment under `root` shares."""
    return root / "shared-snapshots"


def machine_env(root: Path, role: str, lastfm_dir: Path, database_url: str) -> dict[str, str]:
    """One machine's environment: its own home under `root`, the shared snapshot folder and database, no token."""
    home = root / role / "home"
    home.mkdir(parents=True, exist_ok=True)
    environment = encore_env(home, lastfm_dir, database_url)
    environment.pop("DISCORD_TOKEN", None)
    return environment | {"ENCORE_SNAPSHOT_DIR": str(snapshot_dir(root))}


def published_snapshots(database_url: str) -> list[tuple[str, str]]:
    """(version, trainer) of every snapshot recorded in the database, newest first."""

    async def read() -> list[tuple[str, str]]:
        store = Store(create_engine(database_url))
        try:
            return [(row.version, row.metrics.get("trainer")) for row in await store.snapshots.recent(limit=100)]
        finally:
            await store.close()

    return asyncio.run(read())


def recommended_names(message: dict[str, Any]) -> list[str]:
    """The artists a /recommend answer offers in its first select menu (none if it has no menu)."""
    options = [c for row in message.get("components", []) for c in row.get("components", []) if c.get("type") == 3]
    return [o["label"] for o in options[0]["options"]] if options else []
