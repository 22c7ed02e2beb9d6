"""Reading which artists a /recommend answer offers (the options of its like-select), end to end."""

from __future__ import annotations

from typing import Any

from tests.helpers.components import select

LIKE_SELECT = "👍"


def recommended(record_message: dict[str, Any]) -> list[tuple[int, str]]:
    """(artist id, name) of each recommended artist, from the like-select's options."""
    options = select(record_message, LIKE_SELECT)["options"]
    return [(int(o["value"]), o["label"]) for o in options]
