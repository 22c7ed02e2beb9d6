"""Reading what the bot sent in end-to-end tests: texts, components, mentions, and the REST checks."""

from __future__ import annotations

import re
from typing import Any

from discord_emulator import OpenAPIValidator, RecordedRequest
from tests.support import openapi_spec_path

#: Slash commands the bot must register (the top-level names; /encore has subcommands).
EXPECTED_COMMANDS = {
    "like",
    "unlike",
    "likes",
    "recommend",
    "similar",
    "why",
    "forget-me",
    "privacy",
    "encore",
    "lastfm",
    "blend",
    "taste",
    "neighbours",
    "trending",
    "genres",
    "session",
    "whoknows",
    "help",
    "start",
}
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6

#: Mention syntax Discord would render (and, allowed, ping): @everyone/@here and <@id>, <@!id>, <@&id>.
RAW_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>")


def texts(message: dict[str, Any]) -> list[str]:
    """Every piece of text a member reads in a message: content and the embeds' texts."""
    out = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        out += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            out += [item.get("name") or "", item.get("value") or ""]
        out.append((embed.get("footer") or {}).get("text") or "")
        out.append((embed.get("author") or {}).get("name") or "")
    return [t for t in out if t]


def text_of(message: dict[str, Any]) -> str:
    return "\n".join(texts(message))


def raw_mentions(message: dict[str, Any]) -> list[str]:
    """Mention syntax left unescaped in what a member reads."""
    return [m.group(0) for text in texts(message) for m in RAW_MENTION.finditer(text)]


# -- checks over every recorded request ------------------------------------------------------------

_MESSAGE_ROUTES = re.compile(
    r"/interactions/[^/]+/[^/]+/callback$|/webhooks/[^/]+/[^/]+(/messages/[^/]+)?$|/channels/\d+/messages(/\d+)?$"
)


def mention_problems(requests: list[RecordedRequest]) -> list[str]:
    """Message bodies the bot sent that could ping: content or embeds without ``allowed_mentions.parse == []``."""
    problems = []
    for request in requests:
        if request.method not in ("POST", "PATCH") or not _MESSAGE_ROUTES.search(request.path):
            continue
        body = request.json if isinstance(request.json, dict) else None
        if body is None:
            continue
        if "/callback" in request.path:
            body = body.get("data") if isinstance(body.get("data"), dict) else None
            if body is None:
                continue
        if not body.get("content") and not body.get("embeds"):
            continue
        allowed = body.get("allowed_mentions")
        label = f"{request.method} {request.route or request.path}"
        if not isinstance(allowed, dict):
            problems.append(f"{label}: no allowed_mentions in {body!r:.300}")
            continue
        parse = allowed.get("parse")
        if parse is None or set(parse) & {"everyone", "users", "roles"}:
            problems.append(f"{label}: allowed_mentions {allowed!r} lets mentions through")
        if allowed.get("users") or allowed.get("roles"):
            problems.append(f"{label}: allowed_mentions {allowed!r} names users or roles to ping")
    return problems


def assert_every_request_clean(requests: list[RecordedRequest]) -> None:
    """Every REST request the bot made was accepted, pinged nobody and matches Discord's OpenAPI spec."""
    unanswered = [f"{r.method} {r.path} -> {r.status}" for r in requests if not 200 <= r.status < 300]
    assert not unanswered, "requests the emulator refused:\n" + "\n".join(unanswered)
    pinging = mention_problems(requests)
    assert not pinging, "\n".join(pinging)
    problems = OpenAPIValidator(openapi_spec_path()).validate_all(requests)
    assert not problems, f"{len(problems)} problem(s) against the OpenAPI spec:\n" + "\n".join(problems)


def embed_lines(message: dict[str, Any], pattern: re.Pattern[str], form: str) -> list[re.Match[str]]:
    """Each line of the message's one embed, matched against `pattern` (`form` names it on failure)."""
    (embed,) = message["embeds"]
    lines = embed["description"].splitlines()
    matches = [pattern.match(line) for line in lines]
    assert all(matches), f"lines not in the {form} form: {lines}"
    return matches  # type: ignore[return-value]
