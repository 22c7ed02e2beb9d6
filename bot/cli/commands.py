"""`encore`'s entry point: parse the arguments, read the settings, run the command, and turn a mistake
the user can fix into one line."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence

from bot.cli.errors import exit_status
from bot.cli.parser import parse_arguments
from bot.settings import Settings

Command = Callable[[argparse.Namespace, Settings], int]

#: Each subcommand's module and function. Only the chosen command's module is imported, so discord
#: (run, demo) and matplotlib (evaluate --report) load only for the commands that use them.
COMMANDS: dict[str, tuple[str, str]] = {
    "fit": ("bot.cli.models", "fit"),
    "train": ("bot.cli.models", "train"),
    "recommend": ("bot.cli.recommend", "recommend"),
    "similar": ("bot.cli.recommend", "similar"),
    "evaluate": ("bot.cli.evaluate", "evaluate"),
    "db": ("bot.cli.database", "database"),
    "run": ("bot.cli.serve", "run_bot"),
    "demo": ("bot.cli.serve", "demo"),
}


def command_named(name: str) -> Command:
    module, function = COMMANDS[name]
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    return exit_status(lambda: command_named(args.command)(args, Settings.from_env()))
