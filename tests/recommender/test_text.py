from __future__ import annotations

import pytest

from recommender.text import clean_user_text, normalize_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AC/DC", "acdc"),
        ("ac dc", "acdc"),
        ("ac-dc", "acdc"),
        ("Sigur Rós", "sigurros"),
        ("The Beatles", "beatles"),
        ("the beatles", "beatles"),
        ("Beyoncé", "beyonce"),
        ("Mötley Crüe", "motleycrue"),
        ("Røyksopp", "royksopp"),
        ("Æther Realm", "aetherrealm"),
        ("Die Ärzte", "diearzte"),
        ("Straße", "strasse"),
        ("Đorđe Balašević", "dordebalasevic"),
        ("Łódź", "lodz"),
        ("Simon & Garfunkel", "simonandgarfunkel"),
        ("Simon and Garfunkel", "simonandgarfunkel"),
        ("Marina + the Diamonds", "marinaandthediamonds"),
        ("ＡＢＢＡ", "abba"),
        ("The The", "the"),
        ("Theatre of Tragedy", "theatreoftragedy"),
    ],
)
def test_normalize_name_folds_spelling_variants(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize("raw", ["宇多田ヒカル", "방탄소년단", "Кино", "Μίκης Θεοδωράκης", "ゆらゆら帝国"])
def test_non_latin_names_keep_their_letters(raw: str) -> None:
    key = normalize_name(raw)
    assert key
    # The script survives: no ASCII transliteration, just folding.
    assert not key.isascii()


def test_non_latin_folding_is_consistent() -> None:
    assert normalize_name("КИНО") == normalize_name("кино") == "кино"
    # Kana voicing marks are part of the letter, not a diacritic to strip.
    assert normalize_name("が") != normalize_name("か")
    assert normalize_name("방탄 소년단") == "방탄소년단"


@pytest.mark.parametrize(("raw", "expected"), [("!!!", "!!!"), ("★ ★", "★★"), ("+/-", "+/-")])
def test_symbol_only_names_fall_back_instead_of_vanishing(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_blank_name_normalizes_to_empty() -> None:
    assert normalize_name("   ") == ""
    assert normalize_name("") == ""


def test_zero_width_characters_do_not_change_the_key() -> None:
    assert normalize_name("Bey\u200bonc\u00e9") == "beyonce"


def test_clean_user_text_strips_invisible_and_bidi_characters() -> None:
    raw = "\u202e  Sigur\u200b  R\u00f3s\u2066 \ufeff\n\t and\u2060  friends \u200f"
    assert clean_user_text(raw) == "Sigur Rós and friends"


def test_clean_user_text_applies_nfkc() -> None:
    assert clean_user_text("ＡＢＢＡ\u00a0Gold") == "ABBA Gold"
    # NFKC composes, so a decomposed é becomes one code point.
    assert clean_user_text("Beyonce\u0301") == "Beyonc\u00e9"
    assert clean_user_text("   ") == ""
