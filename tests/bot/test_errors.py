"""The one family of errors a member is told about, and the plain lines storage faults become."""

from __future__ import annotations

import errno

from sqlalchemy.exc import OperationalError

from bot.errors import CannotSave, as_user_error, failure_text
from db.faults import StorageUnavailable


def test_members_and_admins_get_one_plain_line_for_a_storage_fault() -> None:
    full = as_user_error(StorageUnavailable("full"))
    assert isinstance(full, CannotSave)
    assert str(full) == "Encore cannot save right now (the disk is full); nothing was changed."
    assert as_user_error(ValueError("bug")) is None
    assert failure_text(OSError(errno.EROFS, "Read-only file system")) == (
        "Encore cannot save right now (the disk is read-only); nothing was changed."
    )
    raw = OperationalError("INSERT INTO likes …", {}, Exception("server closed the connection"))
    assert "INSERT" not in failure_text(raw) and "log" in failure_text(raw)
