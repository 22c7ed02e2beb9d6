"""Deprecated: replaced by bot/app.py (`App`, `build_app`). Delete this module once bot/client.py,
bot/cli_actions.py and bot/demo.py no longer import it."""

from bot.app import App, build_app

Services = App
build_services = build_app

__all__ = ["Services", "build_services"]
