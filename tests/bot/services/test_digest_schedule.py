"""When a weekly digest falls due (bot.services.digest.due_at) and when it posts next (next_post)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.digest import due_at, next_post
from db.digests import DigestSchedule

MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def schedule(weekday: int, hour: int, set_at: datetime, last_posted_at: datetime | None = None) -> DigestSchedule:
    return DigestSchedule(1, 2, weekday, hour, set_at, last_posted_at)


def test_due_from_the_hour_on_until_posted() -> None:
    monday = schedule(0, 9, set_at=MONDAY_9 - timedelta(days=2))
    assert due_at(monday, MONDAY_9 - timedelta(seconds=1)) is None
    assert due_at(monday, MONDAY_9) == MONDAY_9
    # Missed (the bot was down): still that week's, once.
    assert due_at(monday, MONDAY_9 + timedelta(days=3)) == MONDAY_9
    posted = schedule(0, 9, set_at=monday.set_at, last_posted_at=MONDAY_9 + timedelta(minutes=4))
    assert due_at(posted, MONDAY_9 + timedelta(days=6, hours=23)) is None
    assert due_at(posted, MONDAY_9 + timedelta(days=7)) == MONDAY_9 + timedelta(days=7)


def test_set_just_after_the_hour_waits_for_next_week() -> None:
    late = schedule(0, 9, set_at=MONDAY_9 + timedelta(minutes=10))
    assert due_at(late, MONDAY_9 + timedelta(hours=1)) is None
    assert due_at(late, MONDAY_9 + timedelta(days=7)) == MONDAY_9 + timedelta(days=7)


@pytest.mark.parametrize(
    ("weekday", "hour", "expected"),
    [
        (0, 9, MONDAY_9 + timedelta(days=7)),  # the hour itself has come: next week
        (0, 10, MONDAY_9 + timedelta(hours=1)),
        (6, 0, MONDAY_9 + timedelta(days=5, hours=15)),  # Sunday 00:00
        (1, 8, MONDAY_9 + timedelta(hours=23)),
    ],
)
def test_next_post(weekday: int, hour: int, expected: datetime) -> None:
    found = next_post(schedule(weekday, hour, set_at=MONDAY_9), MONDAY_9)
    assert found == expected and found.weekday() == weekday and found.hour == hour
