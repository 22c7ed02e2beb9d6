"""How a command fails: a `UserFacingError` ends it with one line on stderr and exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bot.settings import Settings, SettingsError, redact_url

#: The exit status of a mistake the user can fix (argparse uses it for usage mistakes too).
USER_ERROR_STATUS = 2
INTERRUPTED_STATUS = 130


class UserFacingError(Exception):
    """Ends the command with one line on stderr and exit status 2."""


def exit_status(command: Callable[[], int]) -> int:
    """Run `command`, turning what the user can fix into one line on stderr instead of a traceback."""
    try:
        return command()
    except (UserFacingError, SettingsError) as error:
        print(f"encore: error: {error}", file=sys.stderr)
        return USER_ERROR_STATUS
    except KeyboardInterrupt:
        print("encore: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted.
        return 0


def database_error(settings: Settings, error: Exception) -> UserFacingError:
    return UserFacingError(f"cannot open the database {redact_url(settings.database_url)}: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    """Database errors carry the SQL and a link on later lines; the first says what went wrong.
    The URL, which may hold a password, is never part of it."""
    text = str(getattr(error, "orig", None) or error)
    return redact_url(text.strip().splitlines()[0] if text.strip() else type(error).__name__)
