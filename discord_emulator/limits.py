"""Server-side checks Discord applies to bodies, producing its ``50035 Invalid Form Body`` error shape.

Only the limits a bot realistically trips are checked (lengths and counts of content, embeds,
components, autocomplete choices, modals and command definitions); the OpenAPI validator covers types.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]

_COMMAND_NAME = re.compile(r"^[-_'\w\u0900-\u097F\u0E00-\u0E7F]{1,32}$")


class FormErrors:
    """Collects errors keyed by a JSON path, rendered in Discord's nested ``_errors`` layout."""

    def __init__(self) -> None:
        self.flat: list[tuple[tuple[str | int, ...], str, str]] = []

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        self.flat.append((path, code, message))

    def __bool__(self) -> bool:
        return bool(self.flat)

    def body(self) -> JSON:
        tree: JSON = {}
        for path, code, message in self.flat:
            node = tree
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return {"code": 50035, "errors": tree, "message": "Invalid Form Body"}

    def summary(self) -> str:
        return "; ".join(f"{'.'.join(map(str, p))}: {m}" for p, _, m in self.flat)


def _max_length(errors: FormErrors, path: tuple[str | int, ...], value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _length_between(errors: FormErrors, path: tuple[str | int, ...], value: Any, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def check_message(body: JSON, errors: FormErrors, prefix: tuple[str | int, ...] = ()) -> None:
    """Content, embeds and components limits of a message create/edit body."""
    _max_length(errors, (*prefix, "content"), body.get("content"), 2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors.add((*prefix, "embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        path = (*prefix, "embeds", i)
        if not isinstance(embed, dict):
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            _max_length(errors, (*path, key), embed.get(key), limit)
            total += len(embed.get(key) or "")
        footer = embed.get("footer") or {}
        _max_length(errors, (*path, "footer", "text"), footer.get("text"), 2048)
        total += len(footer.get("text") or "")
        author = embed.get("author") or {}
        _max_length(errors, (*path, "author", "name"), author.get("name"), 256)
        total += len(author.get("name") or "")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, embed_field in enumerate(fields):
            _length_between(errors, (*path, "fields", j, "name"), embed_field.get("name"), 1, 256)
            _length_between(errors, (*path, "fields", j, "value"), embed_field.get("value"), 1, 1024)
            total += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
    if total > 6000:
        errors.add((*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    check_components(
        body.get("components") or [], errors, (*prefix, "components"), v2=bool((body.get("flags") or 0) & (1 << 15))
    )


def check_components(
    components: list[Any], errors: FormErrors, path: tuple[str | int, ...], *, v2: bool = False
) -> None:
    """Action rows (max 5 for classic messages), buttons, selects; custom_ids unique and <= 100 chars."""
    if not v2 and len(components) > 5:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()

    def visit(item: Any, where: tuple[str | int, ...]) -> None:
        if not isinstance(item, dict):
            return
        kind = item.get("type")
        custom_id = item.get("custom_id")
        if custom_id is not None:
            _length_between(errors, (*where, "custom_id"), custom_id, 1, 100)
            if custom_id in seen:
                errors.add(
                    (*where, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(custom_id)
        if kind == 1:
            children = item.get("components") or []
            if not 1 <= len(children) <= 5:
                errors.add((*where, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
            if any(isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8) for c in children) and len(children) > 1:
                errors.add(
                    (*where, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
        elif kind == 2:
            _max_length(errors, (*where, "label"), item.get("label"), 80)
            if item.get("style") == 5:
                if not item.get("url") or custom_id is not None:
                    errors.add(where, "BUTTON_COMPONENT_URL_REQUIRED", "A link button needs a url and no custom_id")
            elif item.get("style") != 6 and custom_id is None:
                errors.add(where, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required")
        elif kind in (3, 5, 6, 7, 8):
            _max_length(errors, (*where, "placeholder"), item.get("placeholder"), 150)
            options = item.get("options") or []
            if kind == 3 and not 1 <= len(options) <= 25:
                errors.add((*where, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
            for k, option in enumerate(options):
                _length_between(errors, (*where, "options", k, "label"), option.get("label"), 1, 100)
                _length_between(errors, (*where, "options", k, "value"), option.get("value"), 1, 100)
        for i, child in enumerate(item.get("components") or []):
            visit(child, (*where, "components", i))
        if isinstance(item.get("accessory"), dict):
            visit(item["accessory"], (*where, "accessory"))

    for index, component in enumerate(components):
        if not v2 and isinstance(component, dict) and component.get("type") != 1:
            errors.add((*path, index), "UNION_TYPE_CHOICES", "Top-level components must be action rows")
        visit(component, (*path, index))


def is_empty_message(body: JSON, file_count: int) -> bool:
    """Discord refuses (50006) a message with nothing to show."""
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
        or file_count
    )


def check_choices(data: JSON, errors: FormErrors) -> None:
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.add(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return
    if len(choices) > 25:
        errors.add(("data", "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        _length_between(errors, ("data", "choices", i, "name"), choice.get("name"), 1, 100)
        if isinstance(choice.get("value"), str):
            _max_length(errors, ("data", "choices", i, "value"), choice["value"], 100)


def check_modal(data: JSON, errors: FormErrors) -> None:
    _length_between(errors, ("data", "title"), data.get("title"), 1, 45)
    _length_between(errors, ("data", "custom_id"), data.get("custom_id"), 1, 100)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")


#: Commands an application may register per scope, by type (chat input, user, message).
COMMANDS_PER_TYPE = {1: 100, 2: 15, 3: 15}


def check_commands(bodies: list[Any], errors: FormErrors) -> None:
    """Command definitions: names, descriptions, option counts and order, duplicates, how many of each type."""
    seen: set[tuple[str, int]] = set()
    per_type = {kind: 0 for kind in COMMANDS_PER_TYPE}
    for body in bodies:
        kind = (body.get("type") or 1) if isinstance(body, dict) else 1
        per_type[kind] = per_type.get(kind, 0) + 1
    for kind, count in per_type.items():
        if count > COMMANDS_PER_TYPE.get(kind, 0):
            errors.add((), "APPLICATION_COMMANDS_TOO_MANY", f"Too many application commands of type {kind}: {count}")
    for i, body in enumerate(bodies):
        if not isinstance(body, dict):
            errors.add((i,), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        check_command(body, errors, (i,))
        key = (str(body.get("name")), int(body.get("type") or 1))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {key[0]}",
            )
        seen.add(key)


def check_command(body: JSON, errors: FormErrors, path: tuple[str | int, ...] = ()) -> None:
    kind = int(body.get("type") or 1)
    name = body.get("name")
    if kind == 1:
        if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
            errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        _length_between(errors, (*path, "description"), body.get("description"), 1, 100)
    elif kind in (2, 3):
        # USER and MESSAGE commands: any case and spaces allowed, no description, no options.
        _length_between(errors, (*path, "name"), name, 1, 32)
        if body.get("description"):
            errors.add(
                (*path, "description"),
                "APPLICATION_COMMAND_DESCRIPTION_INVALID",
                "Must be empty for context menu commands",
            )
        if body.get("options"):
            errors.add(
                (*path, "options"), "APPLICATION_COMMAND_OPTIONS_INVALID", "Only chat input commands can have options"
            )
        return
    else:
        errors.add((*path, "type"), "APPLICATION_COMMAND_TYPE_INVALID", f"Invalid application command type {kind}")
    _check_options(body.get("options") or [], errors, (*path, "options"))


def _check_options(options: list[Any], errors: FormErrors, path: tuple[str | int, ...]) -> None:
    if len(options) > 25:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    names: set[str] = set()
    for i, option in enumerate(options):
        where = (*path, i)
        name = option.get("name")
        if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
            errors.add((*where, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid")
        if name in names:
            errors.add(
                (*where, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique"
            )
        names.add(name)
        _length_between(errors, (*where, "description"), option.get("description"), 1, 100)
        if option.get("type") in (1, 2):
            _check_options(option.get("options") or [], errors, (*where, "options"))
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    where,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            errors.add((*where, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and option.get("autocomplete"):
            errors.add(
                (*where, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                "Autocomplete cannot be set with choices",
            )
