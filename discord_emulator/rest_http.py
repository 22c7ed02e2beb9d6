"""The REST API's plumbing: requests as handlers see them, Discord's error shape and JSON answers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from discord_emulator import limits
from discord_emulator.models import JSON
from discord_emulator.records import RecordedRequest

#: Fills ``errors`` with what is wrong with a JSON body (see ``limits``).
BodyCheck = Callable[[Any, limits.FormErrors], None]

_SHAPE_ERRORS = {
    dict: ("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"),
    list: ("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"),
}


class DiscordError(Exception):
    """Raised by a handler to answer with Discord's error JSON."""

    def __init__(self, status: int, code: int, message: str, extra: JSON | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"message": message, "code": code, **(extra or {})}


def form_error(errors: limits.FormErrors) -> DiscordError:
    body = errors.body()
    return DiscordError(400, body["code"], body["message"], {"errors": body["errors"]})


def refuse_empty_message(body: JSON, files: list[Any]) -> None:
    """Discord's 50006 for a new message with nothing to show (no content, embed, component, poll or file)."""
    if limits.is_empty_message(body, len(files)):
        raise DiscordError(400, 50006, "Cannot send an empty message")


@dataclass
class ParsedRequest:
    """What a handler gets: path parameters, body, uploaded files, the record and the raw request."""

    params: dict[str, str]
    json: Any
    files: list[tuple[str, str, bytes, str]]  # (field name, filename, data, content type)
    query: dict[str, str]
    record: RecordedRequest
    request: web.Request

    def body(self, check: BodyCheck | None = None, *, shape: type[dict] | type[list] = dict) -> Any:
        """The JSON body, if it is a JSON ``shape`` (an object unless told) passing ``check``.

        Anything else is answered with Discord's ``50035 Invalid Form Body``. No body at all reads as an
        empty object, as Discord treats it.
        """
        value = {} if self.json is None and shape is dict else self.json
        errors = limits.FormErrors()
        if not isinstance(value, shape):
            code, message = _SHAPE_ERRORS[shape]
            errors.add((), code, message)
        elif check is not None:
            check(value, errors)
        if errors:
            raise form_error(errors)
        return value


Handler = Callable[[ParsedRequest], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly: discord.py compares the header verbatim."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_body(request: web.Request) -> tuple[Any, list[tuple[str, str, bytes, str]]]:
    """The JSON body, or the multipart ``payload_json`` plus ``files[n]`` parts discord.py uploads."""
    if not request.body_exists:
        return None, []
    if request.content_type == "multipart/form-data":
        payload: Any = None
        files: list[tuple[str, str, bytes, str]] = []
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise ValueError("nested multipart bodies are not supported")
            data = await part.read()
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(data.decode("utf-8"))
            elif part.filename is not None:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append((name, part.filename, bytes(data), content_type))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type != "application/json":
        raise ValueError(f"unsupported Content-Type {request.content_type!r}")
    return json.loads(raw.decode("utf-8")), []


def snowflake(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            {"errors": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": f'Value "{value}" is not snowflake.'}]}},
        ) from None


def mask(name: str, value: str) -> str:
    """Keep the scheme of Authorization ("Bot ...") but never the secret itself."""
    if name.lower() == "authorization":
        scheme, _, token = value.partition(" ")
        return f"{scheme} ***{token[-4:]}" if token else "***"
    return value
