"""bot.checks: an option's declared range and choices, checked in code."""

from __future__ import annotations

import math
from typing import Literal

import pytest
from discord import app_commands

from bot.checks import option_problem


@app_commands.command(name="sample", description="Options of every kind the checks read")
async def sample(
    interaction,
    setting: Literal["public", "private"] | None = None,
    penalty: app_commands.Range[float, 0.0, 2.0] | None = None,
    count: app_commands.Range[int, 1, 25] = 10,
    name: str | None = None,
) -> None: ...


PARAMETERS = {parameter.name: parameter for parameter in sample.parameters}


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("setting", "private", None),
        ("setting", "secret", "“secret” is not a valid `setting`: choose public, private."),
        ("setting", "**x** @everyone", "is not a valid `setting`"),
        ("penalty", 0.0, None),
        ("penalty", 2.0, None),
        ("penalty", -1.0, "`penalty` must be from 0 to 2; got -1."),
        ("penalty", 1e308, "`penalty` must be from 0 to 2; got 1e+308."),
        ("penalty", math.nan, "`penalty` must be from 0 to 2."),
        ("penalty", math.inf, "`penalty` must be from 0 to 2."),
        ("count", 25, None),
        ("count", 0, "`count` must be from 1 to 25; got 0."),
        ("count", None, None),
        ("name", "anything at all", None),
    ],
)
def test_option_values_outside_their_declaration_are_named(option: str, value: object, problem: str | None) -> None:
    found = option_problem(PARAMETERS[option], value)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_echoed_values_are_made_inert() -> None:
    found = option_problem(PARAMETERS["setting"], "@everyone **bold**")
    assert found is not None and "@everyone" not in found and "**" not in found
