"""/taste's picture: a real PNG whatever the names, rendered without pyplot's global state."""

from __future__ import annotations

import threading

from bot.render.taste_card import render_taste_card

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROWS = [("alternative", 0.25, 0.1), ("metal", 0.0, 0.35), ("trip-hop", 0.15, 0.0)]


def size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_a_card_is_a_png_of_a_sensible_size() -> None:
    png = render_taste_card("Alice", "Bob", ROWS, 87, "very similar taste")
    assert png.startswith(PNG_MAGIC)
    width, height = size(png)
    assert 600 <= width <= 1200 and 250 <= height <= 900


def test_hostile_names_are_drawn_as_text_not_math_or_tex() -> None:
    # "$…$" would be mathtext, and an unbalanced "$" or "\" would make matplotlib raise.
    png = render_taste_card("$\\frac{1}{0}$ \\", "@everyone **x** " + "y" * 300, ROWS, 3, "very different tastes")
    assert png.startswith(PNG_MAGIC)


def test_no_genres_and_no_percentage_still_render() -> None:
    assert render_taste_card("a", "b", []).startswith(PNG_MAGIC)


def test_cards_render_concurrently_in_threads() -> None:
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(render_taste_card("a", "b", ROWS, 50))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r.startswith(PNG_MAGIC) for r in results)
