"""Searching files byte by byte for what would identify a member: their id, the names they typed.

A value can sit in a file in several encodings: a Discord id as decimal text (logs, JSON, numpy's
UTF-32 strings), as SQLite's 8-byte big-endian record integer or its varint (a rowid or a cell's
key), or as a little-endian int64 (numpy); a name as UTF-8 (SQLite, JSON), UTF-16 (SQLite's other
text encodings) or UTF-32-LE (numpy's ``<U`` arrays in a snapshot's ``model.npz``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

TEXT_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le")


def sqlite_varint(value: int) -> bytes:
    """SQLite's variable-length integer (big-endian, 7 bits a byte; a 9th byte holds 8 bits)."""
    value &= (1 << 64) - 1
    if value >> 56:
        out = [value & 0xFF]
        value >>= 8
        for _ in range(8):
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        return bytes(reversed(out))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def text_forms(label: str, text: str) -> dict[str, bytes]:
    """`text` in every encoding a file here may hold it in, and as JSON and a URL would escape it."""
    variants = dict.fromkeys([text, json.dumps(text)[1:-1], urllib.parse.quote_plus(text), urllib.parse.quote(text)])
    forms: dict[str, bytes] = {}
    for variant in variants:
        for encoding in TEXT_ENCODINGS:
            forms[f"{label} {variant!r} ({encoding})"] = variant.encode(encoding)
    return forms


def id_forms(label: str, user_id: int) -> dict[str, bytes]:
    """A 64-bit id as text and in each binary form a database or an array stores it in."""
    return text_forms(label, str(user_id)) | {
        f"{label} (int64 little-endian)": user_id.to_bytes(8, "little"),
        f"{label} (int64 big-endian, SQLite's record integer)": user_id.to_bytes(8, "big"),
        f"{label} (SQLite varint)": sqlite_varint(user_id),
    }


def files_under(*roots: Path) -> list[Path]:
    """Every file under these folders (recursively), and these files themselves."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(p for p in root.rglob("*") if p.is_file()))
    return list(dict.fromkeys(found))


def find(paths: Iterable[Path], needles: Mapping[str, bytes]) -> list[str]:
    """Which needle is in which file, as "what in path" lines; a file gone meanwhile holds nothing."""
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        found += [f"{label} in {path}" for label, needle in needles.items() if needle in data]
    return found
