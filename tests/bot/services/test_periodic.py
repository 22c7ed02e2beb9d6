"""run_periodically: the stop-aware loop of every background job, checked without wall-clock bounds."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.services.periodic import run_periodically

#: Seconds after which a wait that should end at once fails the test instead of hanging it.
HANG_GUARD = 60
log = logging.getLogger("tests.periodic")


def test_an_already_set_stop_returns_without_a_step() -> None:
    steps: list[int] = []

    async def step() -> None:
        steps.append(1)

    async def scenario() -> None:
        stop = asyncio.Event()
        stop.set()
        await asyncio.wait_for(
            run_periodically(stop, every=3600, step=step, logger=log, what="x", immediately=True), HANG_GUARD
        )

    asyncio.run(scenario())
    assert steps == []


def test_steps_repeat_and_outlive_a_raising_step(caplog: pytest.LogCaptureFixture) -> None:
    steps: list[int] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        four = asyncio.Event()

        async def step() -> None:
            steps.append(1)
            if len(steps) == 4:
                four.set()
            if len(steps) == 2:
                raise RuntimeError("a bad step")

        task = asyncio.create_task(run_periodically(stop, every=0, step=step, logger=log, what="the job"))
        await asyncio.wait_for(four.wait(), HANG_GUARD)
        assert not task.done(), "a raising step ended the loop"
        stop.set()
        await asyncio.wait_for(task, HANG_GUARD)
        count = len(steps)
        await asyncio.sleep(0)
        assert len(steps) == count, "a step ran after stop was set"

    with caplog.at_level(logging.ERROR, logger="tests.periodic"):
        asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if "failed" in r.getMessage()] == ["the job failed"]


def test_it_waits_before_the_first_step_unless_immediately() -> None:
    async def scenario(immediately: bool) -> list[int]:
        steps: list[int] = []
        stepped = asyncio.Event()

        async def step() -> None:
            steps.append(1)
            stepped.set()

        stop = asyncio.Event()
        task = asyncio.create_task(
            run_periodically(stop, every=3600, step=step, logger=log, what="x", immediately=immediately)
        )
        if immediately:
            await asyncio.wait_for(stepped.wait(), HANG_GUARD)
        else:
            for _ in range(10):  # several turns of the loop: a step without a wait would have run by now
                await asyncio.sleep(0)
        # Setting stop ends a long wait at once (the hang guard, not the hour, bounds it).
        stop.set()
        await asyncio.wait_for(task, HANG_GUARD)
        return steps

    assert asyncio.run(scenario(immediately=False)) == []
    assert asyncio.run(scenario(immediately=True)) == [1]
