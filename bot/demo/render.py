"""How the demo shows Discord in a terminal: messages as a person reads them, commands as they are typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

OPTION = re.compile(r"(\w[\w-]*):(.*?)(?=\s+\w[\w-]*:|$)")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
TIMESTAMP = re.compile(r"<t:(\d+)(?::\w)?>")
EPHEMERAL = 64


def controls_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's buttons and select menus, in the order Discord shows them (numbered from 1 in the demo)."""
    return [item for row in message.get("components") or [] for item in row.get("components") or []]


def render(message: dict[str, Any], *, numbered: bool = False) -> str:
    """A message as a person reads it in Discord: links show their text, markdown disappears.

    ``numbered``: controls get the numbers `press N` and `pick N …` take, and a select menu lists its options.
    """
    parts = []
    if message.get("content"):
        parts.append(plain(message["content"]))
    for embed in message.get("embeds") or []:
        if embed.get("title"):
            parts.append(f"┃ {plain(embed['title'])}")
        if embed.get("description"):
            parts.extend(f"┃ {plain(line)}" for line in embed["description"].splitlines())
        for field in embed.get("fields") or []:
            parts.append(f"┃ {plain(field['name'])}: {plain(field['value'])}")
        if (embed.get("footer") or {}).get("text"):
            parts.append(f"┃ ({plain(embed['footer']['text'])})")
    for attachment in message.get("attachments") or []:
        parts.append(f"  📎 {attachment.get('filename')}")
    parts.extend(_controls(controls_of(message), numbered))
    if (message.get("flags") or 0) & EPHEMERAL:
        parts.append("  (only you can see this)")
    return "\n".join(parts)


def _controls(items: list[dict[str, Any]], numbered: bool) -> list[str]:
    if not items:
        return []
    if not numbered:
        return ["  " + " ".join(f"[{item.get('label') or item.get('placeholder') or '…'}]" for item in items)]
    lines = []
    for number, item in enumerate(items, start=1):
        lines.append(f"  [{number}] {item.get('label') or item.get('placeholder') or '…'}")
        for index, option in enumerate(item.get("options") or [], start=1):
            lines.append(f"        {index}. {option.get('label')}")
    return lines


def plain(text: str) -> str:
    text = LINK.sub(r"\1", text)
    text = TIMESTAMP.sub(lambda m: datetime.fromtimestamp(int(m.group(1)), UTC).strftime("%Y-%m-%d %H:%M UTC"), text)
    text = text.replace("**", "").replace("`", "")
    return re.sub(r"\\([\\*_~`|>\[\]()#@-])", r"\1", text)


def parse_command(line: str) -> tuple[str, str | None, dict[str, str]]:
    """'/similar artist:Daft Punk count:5' -> ("similar", None, {"artist": "Daft Punk", "count": "5"});
    '/encore status' -> ("encore", "status", {})."""
    body = line.strip().lstrip("/")
    first = OPTION.search(body)
    words = (body[: first.start()] if first else body).split()
    options = {key: value.strip() for key, value in OPTION.findall(body[first.start() :])} if first else {}
    return (words[0] if words else ""), (words[1] if len(words) > 1 else None), options


def answered(record: Any) -> bool:
    """A message is there and is no longer the "thinking…" placeholder of a deferred reply."""
    try:
        return not record.final_message()["loading"]
    except LookupError:
        return False
