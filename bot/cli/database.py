"""`encore db`: migrate the store to the newest schema, or show its revision."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.errors import database_error
from bot.settings import Settings, redact_url
from db.migrations import current as current_revision
from db.migrations import upgrade


def database(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "upgrade":
            upgrade(settings.database_url)
        revision = current_revision(settings.database_url)
    except (SQLAlchemyError, OSError) as error:
        raise database_error(settings, error) from None
    print(f"{redact_url(settings.database_url)}: schema revision {revision or 'none (run encore db upgrade)'}")
    return 0
