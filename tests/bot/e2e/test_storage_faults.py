"""A database that refuses writes, through the real bot: the member is told Encore cannot save,
nothing changes, and the bot saves again once writes work, without a restart.

SQLite's `query_only` makes every write fail as a read-only file does (SQLITE_READONLY); the full-disk
case (SQLITE_FULL) is the same path, checked in tests/db/test_faults.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tests.helpers.e2e import Encore
from tests.helpers.e2e_messages import text_of

pytestmark = pytest.mark.slow

CANNOT_SAVE = "Encore cannot save right now (the disk is read-only); nothing was changed."


def refuse_writes(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.cursor().execute("PRAGMA query_only = ON")


async def set_read_only(encore: Encore, read_only: bool) -> None:
    engine = encore.app.store.engine
    if read_only:
        event.listen(engine.sync_engine, "connect", refuse_writes)
    else:
        event.remove(engine.sync_engine, "connect", refuse_writes)
    await engine.dispose()  # the pool's connections reopen with the setting


def test_a_read_only_database_is_one_clear_reply_and_the_bot_recovers_without_a_restart(encore: Encore) -> None:
    if encore.app.store.engine.dialect.name != "sqlite":
        pytest.skip("the read-only database is SQLite's query_only")
    member = encore.member()
    encore.run(set_read_only(encore, True))
    try:
        refused = encore.command(member, "like", {"artist": "Radiohead"}).final_message()
        assert refused["ephemeral"] and text_of(refused) == f"⚠️ {CANNOT_SAVE}", refused
        again = encore.command(member, "privacy", {"setting": "private"}).final_message()
        assert CANNOT_SAVE in text_of(again), again
        # Reads still work meanwhile.
        assert "Your privacy is **public**" in text_of(encore.command(member, "privacy").final_message())
    finally:
        encore.run(set_read_only(encore, False))
    assert encore.liked_ids(member) == set(), "nothing was changed"
    saved = encore.command(member, "like", {"artist": "Radiohead"}).final_message()
    assert saved["content"].startswith("Noted: you like"), saved
    assert encore.liked_ids(member) == {encore.artist_id("Radiohead")}
