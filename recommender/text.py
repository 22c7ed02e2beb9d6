"""Text normalisation for matching artist names and cleaning what users type."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_user_text", "normalize_name"]

# Letters that NFKD leaves whole, so stripping combining marks alone would not fold them.
_FOLD_LETTERS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "ŋ": "n",
        "ĸ": "k",
    }
)


def _is_diacritic(ch: str) -> bool:
    # Only the generic diacritic blocks: marks that carry meaning in other scripts
    # (kana voicing, Indic vowel signs) must survive or those names get mangled.
    cp = ord(ch)
    return (
        0x0300 <= cp <= 0x036F
        or 0x1AB0 <= cp <= 0x1AFF
        or 0x1DC0 <= cp <= 0x1DFF
        or 0x20D0 <= cp <= 0x20FF
        or 0xFE20 <= cp <= 0xFE2F
    )


_ASCII_JUNK = re.compile(r"[^a-z0-9]+")
_AND = re.compile(r"[&+]")
_ZERO_WIDTH = [*range(0x200B, 0x2010), 0x2060, 0xFEFF]
_BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_INVISIBLE = str.maketrans(dict.fromkeys(_ZERO_WIDTH + _BIDI_CONTROLS))


def _strip_leading_the(s: str) -> str:
    s = " ".join(s.split())
    return s[4:] if s.startswith("the ") else s


def normalize_name(s: str) -> str:
    """Fold an artist name to a key so spelling variants ("AC/DC", "ac dc") compare equal.

    Casefolds, strips diacritics, turns "&"/"+" into "and", drops a leading "the " and
    then every character that is not a letter, digit or script-specific mark. A name with
    no letter or digit falls back to its casefolded NFKC form without whitespace, so no
    name normalises to "" unless it is blank.
    """
    if not any(ch.isalnum() for ch in s):
        # Names like "!!!" or "+/-" are all punctuation: keep them rather than fold to "" or "and".
        return "".join(unicodedata.normalize("NFKC", s).casefold().split())
    if s.isascii():
        # Most names are ASCII; skipping the Unicode machinery keeps catalogue builds and
        # per-keystroke searches cheap.
        key = _ASCII_JUNK.sub("", _strip_leading_the(_AND.sub(" and ", s.lower())))
        return key if key else "".join(s.lower().split())

    folded = unicodedata.normalize("NFKC", s).casefold()
    text = folded.translate(_FOLD_LETTERS)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not _is_diacritic(ch))
    # Recompose so Hangul syllables and other scripts come back in their usual form.
    text = unicodedata.normalize("NFC", text)
    text = _strip_leading_the(_AND.sub(" and ", text))
    key = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNM")
    return key if key else "".join(folded.split())


def clean_user_text(s: str) -> str:
    """Tidy text typed by a user: NFKC, no invisible or bidi control characters, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", s).translate(_INVISIBLE).split())
