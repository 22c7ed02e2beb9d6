"""Requests Encore cannot do, told to the member who made them.

Services raise a `UserError` subclass and move on; the bot's one error handler (the command tree's and
the views', see bot/client.py and bot/utils.py) turns any of them into an ephemeral reply. Nothing here
imports discord, so the CLI shares these errors without loading it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from db.faults import StorageProblem, StorageUnavailable, storage_problem

if TYPE_CHECKING:
    from recommender.catalogue import Artist

#: Makes text a member typed (or the catalogue holds) inert in a Discord message, within a length.
Escape = Callable[[str, int], str]
NAME_LIMIT = 100


class UserError(Exception):
    """A request that cannot be done; ``str(error)`` is the reply, already safe to show."""

    def reply_text(self, escape: Escape) -> str:
        """The reply the bot sends; errors holding raw typed text escape it here with `escape`."""
        return str(self)


class NoMatch(UserError):
    """No catalogue artist has that name; `suggestions` are the nearest ones, best first."""

    SUGGESTIONS_SHOWN = 3

    def __init__(self, query: str, suggestions: tuple[Artist, ...]) -> None:
        super().__init__(f"no artist matches {query!r}")
        self.query = query
        self.suggestions = suggestions

    def reply_text(self, escape: Escape) -> str:
        names = _join_names([escape(a.name, NAME_LIMIT) for a in self.suggestions[: self.SUGGESTIONS_SHOWN]])
        hint = f" Did you mean {names}?" if names else ""
        return f"no artist called “{escape(self.query, NAME_LIMIT)}”.{hint}"


class CannotSave(UserError):
    """The disk under the database or the snapshots is full or read-only; nothing was changed."""

    def __init__(self, problem: StorageProblem) -> None:
        super().__init__(f"Encore cannot save right now (the disk is {problem}); nothing was changed.")


def as_user_error(error: BaseException) -> UserError | None:
    """The reply-ready form of `error` if a member can be told about it (storage faults included)."""
    if isinstance(error, UserError):
        return error
    if isinstance(error, StorageUnavailable):
        return CannotSave(error.problem)
    return None


def failure_text(error: BaseException) -> str:
    """One line for an operator or an admin: what stopped a job, without a driver's raw text."""
    problem = storage_problem(error)
    if problem is not None:
        return str(CannotSave(problem))
    if isinstance(error, SQLAlchemyError):
        return "the database could not be reached (the cause is in the bot's log)"
    return f"{type(error).__name__}: {error}"


def _join_names(parts: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c" (recommender.engine.join_names, which the Last.fm client need not load)."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
