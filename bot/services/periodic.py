"""The stop-aware loop every background job of the bot runs: refits, following a trainer, Last.fm refreshes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def run_periodically(
    stop: asyncio.Event,
    *,
    every: float,
    step: Callable[[], Awaitable[object]],
    logger: logging.Logger,
    what: str,
    immediately: bool = False,
) -> None:
    """Run `step` every `every` seconds until `stop` is set.

    Waits `every` seconds, or until `stop` is set, whichever comes first, then runs `step`. A step that
    raises is logged as "<what> failed" and the loop goes on: a bad pass (the database restarting, say)
    must not end the job for the life of the process. Once `stop` is set the loop returns at once,
    without running another step. `immediately`: run the first step before the first wait.
    """
    if immediately and not stop.is_set():
        await _run_step(step, logger, what)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
        if stop.is_set():
            return
        await _run_step(step, logger, what)


async def _run_step(step: Callable[[], Awaitable[object]], logger: logging.Logger, what: str) -> None:
    try:
        await step()
    except Exception:  # noqa: BLE001 - the loop must outlive a bad step
        logger.exception("%s failed", what)
