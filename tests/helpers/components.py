"""Reading the buttons and select menus of a message as the emulator stores it (a JSON payload)."""

from __future__ import annotations

from typing import Any


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's interactive components (buttons and selects), flattened."""
    found: list[dict[str, Any]] = []

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("custom_id"):
                found.append(item)
            visit(item.get("components") or [])

    visit(message.get("components") or [])
    return found


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    matches = [c for c in components(message) if c.get("type") == 2 and c.get("label") == label]
    assert matches, f"no button {label!r}; buttons: {[c.get('label') for c in components(message)]}"
    return matches[0]


def select(message: dict[str, Any], placeholder_start: str) -> dict[str, Any]:
    matches = [
        c
        for c in components(message)
        if c.get("type") == 3 and (c.get("placeholder") or "").startswith(placeholder_start)
    ]
    assert matches, f"no select {placeholder_start!r}…; selects: {[c.get('placeholder') for c in components(message)]}"
    return matches[0]


def option_values(message: dict[str, Any], placeholder_start: str) -> list[str]:
    return [o["value"] for o in select(message, placeholder_start)["options"]]


def all_disabled(message: dict[str, Any]) -> bool:
    """The message still shows components, and none of them can be used."""
    shown = components(message)
    return bool(shown) and all(c.get("disabled") for c in shown)
