"""What the commands work on, opened the one way: the Last.fm data, a trainer, and the app from
`bot.app.build_app`, each failure as one line for the user instead of a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.app import App
from bot.cli.errors import UserFacingError, database_error
from bot.errors import failure_text
from bot.services.models import RefitTimings
from bot.settings import Settings
from db.faults import StorageUnavailable
from recommender.datasets import DataError, resolve_data_dir
from recommender.snapshot import Snapshot
from recommender.training import LastFmData, Trainer, TrainingEngineError, make_trainer


def load_data(settings: Settings) -> LastFmData:
    try:
        return LastFmData.load(resolve_data_dir(settings.lastfm_dir))
    except DataError as error:
        raise UserFacingError(str(error)) from None


def trainer_named(engine: str, settings: Settings) -> Trainer:
    """The trainer of `encore fit/train --engine`; the spark engine runs where the ENCORE_SPARK_ settings say."""
    try:
        return make_trainer(engine, spark=settings.spark)
    except TrainingEngineError as error:
        raise UserFacingError(str(error)) from None


@contextmanager
def build_errors_as_one_line(settings: Settings) -> Iterator[None]:
    """Around a `build_app` call: a missing or damaged data set, or a store that cannot be opened, as one line."""
    try:
        yield
    except DataError as error:
        raise UserFacingError(str(error)) from None
    except StorageUnavailable as error:
        raise UserFacingError(failure_text(error)) from None
    except OSError as error:
        if _inside(error.filename, settings.snapshot_dir):
            raise UserFacingError(f"cannot write snapshots to {settings.snapshot_dir}: {error.strerror}") from None
        raise database_error(settings, error) from None
    except SQLAlchemyError as error:
        raise database_error(settings, error) from None


def _inside(filename: object, folder: Path) -> bool:
    if not isinstance(filename, str | Path):
        return False
    path, folder = Path(filename).absolute(), folder.absolute()
    return path == folder or folder in path.parents


@asynccontextmanager
async def opened_app(settings: Settings, building: Awaitable[App]) -> AsyncIterator[App]:
    """The app that `building` (a `build_app(settings, ...)` call) makes, closed however the block ends."""
    with build_errors_as_one_line(settings):
        app = await building
    try:
        yield app
    finally:
        await app.close()


async def refit_now(app: App) -> tuple[RefitTimings, Snapshot]:
    """The bot's refit, once: Last.fm plus every member's likes in the store, saved and recorded."""
    try:
        timings = await app.models.refit()
    except Exception as error:  # noqa: BLE001 - with nothing served yet, refit raises what stopped it
        raise UserFacingError(f"the fit failed: {failure_text(error)}") from None
    if timings is None or app.models.state is None:
        raise UserFacingError(f"the fit failed: {app.models.last_error}")
    return timings, app.models.state.snapshot
