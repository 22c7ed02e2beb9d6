"""Storage faults a member can be told about: the disk is full, or the database is read-only.

The write path turns the drivers' errors for these into one `StorageUnavailable`, logs the cause once
per outage and notes the recovery, so the bot can answer "cannot save right now" and keep running
until the disk has room again, without a restart.
"""

from __future__ import annotations

import errno
import logging
from typing import Final, Literal

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

StorageProblem = Literal["full", "read-only"]

_SQLITE_PROBLEMS: Final[dict[str, StorageProblem]] = {
    "SQLITE_FULL": "full",
    "SQLITE_READONLY": "read-only",
    "SQLITE_READONLY_DBMOVED": "read-only",
    "SQLITE_READONLY_DIRECTORY": "read-only",
    "SQLITE_READONLY_RECOVERY": "read-only",
    "SQLITE_READONLY_ROLLBACK": "read-only",
}
# SQLSTATE classes: 53100 disk_full, 53xxx insufficient resources; 25006 read_only_sql_transaction.
_POSTGRES_PROBLEMS: Final[dict[str, StorageProblem]] = {"53100": "full", "25006": "read-only"}
_OS_PROBLEMS: Final[dict[int, StorageProblem]] = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read-only",
    errno.EACCES: "read-only",
    errno.EPERM: "read-only",
}


class StorageUnavailable(Exception):
    """Nothing could be saved: the disk is full or read-only; the change was not made."""

    def __init__(self, problem: StorageProblem) -> None:
        super().__init__(f"the disk is {problem}")
        self.problem = problem


def storage_problem(error: BaseException) -> StorageProblem | None:
    """'full' or 'read-only' when `error` (a driver, SQLAlchemy or OS error) is one of those, else None."""
    if isinstance(error, StorageUnavailable):
        return error.problem
    if isinstance(error, OSError) and error.errno in _OS_PROBLEMS:
        return _OS_PROBLEMS[error.errno]
    cause = error.orig if isinstance(error, DBAPIError) else error
    name = getattr(cause, "sqlite_errorname", None)
    if isinstance(name, str) and name in _SQLITE_PROBLEMS:
        return _SQLITE_PROBLEMS[name]
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if isinstance(state, str) and state in _POSTGRES_PROBLEMS:
        return _POSTGRES_PROBLEMS[state]
    return None


class FaultLog:
    """Logs an outage's cause once, and once that writes work again."""

    def __init__(self) -> None:
        self.current: StorageProblem | None = None

    def failed(self, problem: StorageProblem, error: BaseException) -> None:
        if self.current != problem:
            log.error("cannot save to the database (the disk is %s): %s", problem, error)
        self.current = problem

    def succeeded(self) -> None:
        if self.current is not None:
            log.warning("the database accepts writes again")
        self.current = None
