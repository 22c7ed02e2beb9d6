"""Validate recorded REST requests against Discord's official OpenAPI 3.1 description.

The spec's schemas are JSON Schema 2020-12, so each request body is checked with jsonschema's
Draft 2020-12 validator. The whole spec is registered as one resource, so the ``#/components/...``
references inside any schema resolve against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from discord_emulator.records import RecordedRequest

_SPEC_URI = "urn:discord:openapi"
_API_PREFIX = re.compile(r"^/api/v\d+")
_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


@dataclass(frozen=True)
class _Template:
    path: str
    segments: tuple[str, ...]
    literal_count: int


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenAPIValidator:
    """Finds a concrete request path's template and operation, then validates its JSON body."""

    def __init__(self, spec_path: str | Path, *, accept_integer_snowflakes: bool = True) -> None:
        """Load the spec. ``accept_integer_snowflakes`` mirrors the API rather than the spec's strictness:

        the spec types every snowflake as a numeric *string*, but Discord coerces JSON integers too, and its
        own file-upload docs send ``"attachments": [{"id": 0, ...}]`` (discord.py does the same). Pass
        False to check the spec to the letter.
        """
        self.spec_path = Path(spec_path)
        self.spec: dict[str, Any] = json.loads(self.spec_path.read_text(encoding="utf-8"))
        validated = self.spec
        snowflake = self.spec.get("components", {}).get("schemas", {}).get("SnowflakeType")
        if accept_integer_snowflakes and snowflake is not None:
            # Shallow copies down to the one schema replaced; the rest of the spec is shared.
            schemas = {**self.spec["components"]["schemas"]}
            schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
            validated = {**self.spec, "components": {**self.spec["components"], "schemas": schemas}}
        resource = Resource.from_contents(validated, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(_SPEC_URI, resource)
        self._templates = [
            _Template(
                path,
                tuple(path.strip("/").split("/")),
                sum(1 for s in path.strip("/").split("/") if not s.startswith("{")),
            )
            for path in self.spec.get("paths", {})
        ]
        self._validators: dict[tuple[str, str, str], Draft202012Validator] = {}

    # -- lookup -----------------------------------------------------------------------------------

    def match_path(self, path: str) -> str | None:
        """The spec template for a concrete path (``/api/v10`` stripped); literal segments win over params."""
        path = _API_PREFIX.sub("", path.split("?", 1)[0]) or "/"
        segments = tuple(path.strip("/").split("/"))
        best: _Template | None = None
        for template in self._templates:
            if len(template.segments) != len(segments):
                continue
            if all(t.startswith("{") and t.endswith("}") or t == s for t, s in zip(template.segments, segments)):
                if best is None or template.literal_count > best.literal_count:
                    best = template
        return None if best is None else best.path

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        template = self.match_path(path)
        if template is None:
            return None
        operation = self.spec["paths"][template].get(method.lower())
        return None if operation is None else (template, operation)

    # -- validation -------------------------------------------------------------------------------

    def validate(
        self, method: str, path: str, body: Any = None, *, content_type: str = "application/json"
    ) -> list[str]:
        """Problems with one request (empty list = valid). ``body`` is the JSON (or multipart payload_json)."""
        label = f"{method.upper()} {path}"
        template = self.match_path(path)
        if template is None:
            return [f"{label}: no path in the OpenAPI spec matches"]
        path_item = self.spec["paths"][template]
        operation = path_item.get(method.lower())
        if operation is None:
            allowed = sorted(m.upper() for m in path_item if m in _METHODS)
            return [f"{label}: {template} has no {method.upper()} operation (has {allowed})"]
        request_body = operation.get("requestBody")
        if body is None:
            if request_body is not None and request_body.get("required"):
                return [f"{label} ({template}): the request body is required"]
            return []
        if request_body is None:
            return [f"{label} ({template}): sent a body but the operation takes none"]
        content = request_body.get("content", {})
        # A multipart body's payload_json carries the JSON shape, so it is checked against the JSON schema.
        media = "application/json" if "application/json" in content else content_type
        if media not in content:
            return [f"{label} ({template}): the spec has no {media} request body (has {sorted(content)})"]
        validator = self._validator(template, method.lower(), media)
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            problems.append(f"{label} ({template}): {_describe(error)}")
        return problems

    def validate_request(self, request: RecordedRequest) -> list[str]:
        return self.validate(request.method, request.path, request.json)

    def validate_all(self, requests: Iterable[RecordedRequest], *, only_with_body: bool = True) -> list[str]:
        """Problems across many recorded requests (by default those that carried a JSON body)."""
        problems: list[str] = []
        for request in requests:
            if only_with_body and request.json is None:
                continue
            problems.extend(self.validate_request(request))
        return problems

    def _validator(self, template: str, method: str, media: str) -> Draft202012Validator:
        key = (template, method, media)
        validator = self._validators.get(key)
        if validator is None:
            pointer = "/".join(
                _pointer_escape(token)
                for token in ("paths", template, method, "requestBody", "content", media, "schema")
            )
            # A $ref into the registered spec: the schema's own "#/components/..." refs resolve in the spec.
            validator = Draft202012Validator({"$ref": f"{_SPEC_URI}#/{pointer}"}, registry=self._registry)
            self._validators[key] = validator
        return validator


def _describe(error: ValidationError) -> str:
    """``at $.data.type: 'four' is not of type 'integer'``; for an anyOf/oneOf, its likeliest branch's error."""
    if error.context:
        return _describe(_likely_branch_error(error))
    message = error.message
    if len(message) > 300:
        message = message[:300] + "..."
    return f"at {error.json_path}: {message}"


def _likely_branch_error(error: ValidationError) -> ValidationError:
    """The most telling error inside an anyOf/oneOf.

    Discord's unions are discriminated by ``type`` (e.g. interaction callback 4/5 vs 8): branches whose
    ``type`` did not match are noise, so they are dropped, then the deepest remaining error wins.
    """
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    matching = [errors for errors in branches.values() if not any(list(e.relative_path) == ["type"] for e in errors)]
    pool = [e for errors in matching for e in errors] or list(error.context or [])
    deepest = max(pool, key=lambda e: len(e.absolute_path))
    if deepest.context:
        return deepest
    return best_match([e for e in pool if len(e.absolute_path) == len(deepest.absolute_path)]) or deepest
