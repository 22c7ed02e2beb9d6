"""`Likes.all_like_columns`: what a refit reads, as packed columns, agrees with `all_likes` row for row."""

from __future__ import annotations

import math

import numpy as np
import pytest

import db.likes
from db import Store
from recommender.merge import MemberPlays
from tests.db.test_store import BIG, run_with_store, seed_artists


def test_columns_hold_every_like_with_its_weight(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        await seed_artists(store, 3)
        await store.likes.like(BIG, 1)
        await store.likes.like(BIG, 3, source="lastfm", weight=42.0)
        await store.likes.like(5, 2)
        columns = await store.likes.all_like_columns()
        assert len(columns) == 3
        rows = sorted(zip(columns.user_ids, columns.artist_ids, columns.weights))
        expected = sorted((u, a, w) for u, a, _, w in await store.likes.all_likes())
        assert [(u, a) for u, a, _ in rows] == [(u, a) for u, a, _ in expected]
        for (_, _, got), (_, _, want) in zip(rows, expected):
            assert math.isnan(got) if want is None else got == want

        members = MemberPlays.from_columns(columns.user_ids, columns.artist_ids, columns.weights, 7.0)
        from_rows = MemberPlays.from_likes(await store.likes.all_likes(), 7.0)
        order, row_order = (
            np.lexsort((members.artist_ids, members.user_ids)),
            np.lexsort((from_rows.artist_ids, from_rows.user_ids)),
        )
        assert members.user_ids[order].tolist() == from_rows.user_ids[row_order].tolist()
        assert members.plays[order].tolist() == from_rows.plays[row_order].tolist() == [7.0, 7.0, 42.0]

    run_with_store(database_url, scenario)


def test_pages_split_inside_a_members_likes_lose_and_repeat_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.likes, "CHUNK_ROWS", 2)  # pages end between two likes of one member

    async def scenario(store: Store) -> None:
        await seed_artists(store, 5)
        wanted = [(u, a) for u in (3, BIG) for a in (1, 2, 4)] + [(9, 5)]
        await store.likes.import_likes(wanted)
        columns = await store.likes.all_like_columns()
        assert list(zip(columns.user_ids, columns.artist_ids)) == sorted(wanted)

    run_with_store(database_url, scenario)


def test_no_likes_are_empty_columns(database_url: str) -> None:
    async def scenario(store: Store) -> None:
        columns = await store.likes.all_like_columns()
        assert len(columns) == 0
        assert MemberPlays.from_columns(columns.user_ids, columns.artist_ids, columns.weights, 7.0).plays.size == 0

    run_with_store(database_url, scenario)
