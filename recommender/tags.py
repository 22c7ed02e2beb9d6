"""One vocabulary of music types from free-form Last.fm tags.

Listeners tag however they like: "Hip Hop", "hip-hop" and "hiphop" are one type to a reader, and
"seen live", "favourites" or "2008" are about the listener, not the music. `build_vocabulary` turns the
raw tags of a data set into music types in three steps:

1. rules every tag goes through (`clean_tag`): case, spaces, underscores, "&", "+" and "'n'" read as
   "and", decades written one way ("80's", "1980s" -> "80s"), a short table of synonyms and common
   misspellings, and the tags that are not music types dropped (`is_music_type`);
2. spellings that differ only in spaces and hyphens ("post rock", "post-rock", "postrock") become the
   one most used in the data, unless the synonym table names the spelling;
3. a multi-word plural and its singular ("female vocalist", "female vocalists") become the more used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["NOT_MUSIC_TYPES", "build_vocabulary", "clean_tag", "is_music_type", "tag_key"]

#: Whole tags about the listener or the record collection rather than the music.
NOT_MUSIC_TYPES = frozenset(
    {
        "seen live",
        "live",
        "albums i own",
        "check out",
        "to check out",
        "under 2000 listeners",
        "spotify",
        "my music",
        "cool",
        "good",
        "great",
        "nice",
        "hot",
        "fun",
        "cute",
        "sweet",
        "epic",
        "classic",
        "cover",
        "covers",
        "remix",
        "single",
        "hit",
        "hits",
        "other",
        "music",
        "new",
        "<3",
    }
)

#: Words that make any tag holding them personal ("my favorite", "love it", "best song ever").
_PERSONAL_WORDS = frozenset(
    {
        "my",
        "i",
        "me",
        "mine",
        "own",
        "seen",
        "love",
        "loved",
        "lovely",
        "awesome",
        "amazing",
        "beautiful",
        "best",
        "perfect",
        "brilliant",
        "fantastic",
        "genius",
        "sexy",
        "song",
        "songs",
        "listen",
        "listened",
    }
)
#: "fav", "fave", "faves", "favorite", "favourites", "favoritos"...
_FAVOURITE = re.compile(r"^fav")

#: Spellings read as one key (see `tag_key`) -> the music type, for synonyms and misspellings the
#: separator rule alone cannot merge.
SYNONYMS: Mapping[str, str] = {
    "hiphop": "hip-hop",
    "rnb": "r&b",
    "randb": "r&b",
    "rhythmandblues": "r&b",
    "dnb": "drum and bass",
    "dandb": "drum and bass",
    "drumandbass": "drum and bass",
    "drumbass": "drum and bass",
    "rockandroll": "rock and roll",
    "rocknroll": "rock and roll",
    "triphop": "trip-hop",
    "altrock": "alternative rock",
    "alternativerock": "alternative rock",
    "alt": "alternative",
    "alternitive": "alternative",
    "alternativ": "alternative",
    "altcountry": "alt-country",
    "electronicmusic": "electronic",
    "electonic": "electronic",
    "psychadelic": "psychedelic",
    "psychedelia": "psychedelic",
    "psychadelicrock": "psychedelic rock",
    "progresive": "progressive",
    "progrock": "progressive rock",
    "progmetal": "progressive metal",
    "trashmetal": "thrash metal",
    "synthpop": "synthpop",
    "electropop": "electropop",
    "powerpop": "power pop",
    "postrock": "post-rock",
    "postpunk": "post-punk",
    "lofi": "lo-fi",
    "classicalmusic": "classical",
    "singersongwriter": "singer-songwriter",
    "soundtracks": "soundtrack",
    "ost": "soundtrack",
}

_SPACES = re.compile(r"[\s_]+")
# "&", "+" and "n" between words, "'n'", "'n" and "n'" (rock'n'roll, drum 'n' bass) all read "and".
_AND = re.compile(r"\s*(?:&|\+|'n'|'n\b|\bn'|\bn\b)\s*")
_DECADE = re.compile(r"^(?:19(?=[1-9])|20(?=[01]))?(\d)0\s*'?\s*s$")
_NUMBER = re.compile(r"^[\d\s.,/-]+$")
_NOT_KEY = re.compile(r"[^\w&]+")


def _spelled(tag: str) -> str:
    """The tag in one case and spacing, with "and" and decades spelled one way."""
    text = _SPACES.sub(" ", tag.casefold()).strip(" -")
    text = _AND.sub(" and ", text).strip()
    decade = _DECADE.match(text)
    return f"{decade.group(1)}0s" if decade else text


def tag_key(tag: str) -> str:
    """What spellings of one type share: letters and digits only ("Post-Rock", "post rock" -> "postrock")."""
    return _NOT_KEY.sub("", _spelled(tag)).replace("_", "")


def is_music_type(tag: str) -> bool:
    """False for a bare number (a year), a tag about the listener ("seen live", "my favorite") or nothing."""
    text = _spelled(tag)
    if not text or _NUMBER.match(text) or text in NOT_MUSIC_TYPES:
        return False
    words = re.findall(r"\w+", text)
    return not any(w in _PERSONAL_WORDS or _FAVOURITE.match(w) for w in words)


def clean_tag(tag: str) -> str | None:
    """The music type a tag names, spelled by the rules alone (no data needed); None if it is not one."""
    if not is_music_type(tag):
        return None
    return SYNONYMS.get(tag_key(tag), _spelled(tag))


def build_vocabulary(uses: Mapping[str, int]) -> dict[str, str]:
    """Raw tag -> music type for every raw tag that names one; `uses` says how often each raw tag is used
    (taggings or distinct taggers), which picks the spelling a group of variants goes by."""
    cleaned = {raw: label for raw in uses if (label := clean_tag(raw)) is not None}
    weight: dict[str, int] = {}
    for raw, label in cleaned.items():
        weight[label] = weight.get(label, 0) + int(uses[raw])

    def heavier(labels: list[str]) -> str:
        return min(labels, key=lambda label: (-weight[label], label))

    # Step 2: one spelling per key, the synonym table's if it names one, else the most used.
    by_key: dict[str, list[str]] = {}
    for label in weight:
        by_key.setdefault(tag_key(label), []).append(label)
    spelling: dict[str, str] = {}
    for key, labels in by_key.items():
        chosen = SYNONYMS.get(key) or heavier(labels)
        for label in labels:
            spelling[label] = chosen
    merged: dict[str, int] = {}
    for label, chosen in spelling.items():
        merged[chosen] = merged.get(chosen, 0) + weight[label]

    # Step 3: a multi-word plural and its singular go by the more used of the two.
    plural: dict[str, str] = {}
    for label in merged:
        if " " in label and label.endswith("s") and (singular := label[:-1]) in merged:
            plural[label] = plural[singular] = min((label, singular), key=lambda t: (-merged[t], t))
    return {raw: plural.get(spelling[label], spelling[label]) for raw, label in cleaned.items()}
