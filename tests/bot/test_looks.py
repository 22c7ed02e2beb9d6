"""bot.looks: a distinct, colour-blind-safe colour per kind of embed, on every embed the bot builds, and
thumbnails only Discord can show; the taste card's legend and phone-sized text."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import discord
import numpy as np
import pandas as pd
import pytest
from matplotlib import rc_context
from matplotlib.text import Text

from bot import looks
from bot.render.taste_card import LEFT_COLOUR, RIGHT_COLOUR, taste_card_figure
from discord_emulator import OpenAPIValidator
from recommender import palette
from recommender.catalogue import ArtistCatalogue
from recommender.datasets import load_hetrec
from tests.support import openapi_spec_path

BOT = Path(__file__).resolve().parents[2] / "bot"
#: Machado, Oliveira and Fernandes (2009), severity 1, applied to linear RGB.
DEFICIENCIES = {
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]]
    ),
}
#: CIE76 distance at which two flat colours are told apart at a glance (2.3 is "just noticeable").
DISTINCT = 10.0
CALLBACK = "/api/v10/interactions/1/token/callback"


def lab(rgb: tuple[int, int, int], deficiency: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour as seen with a colour-vision deficiency."""
    c = np.array(rgb) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    seen = np.clip(deficiency @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ seen
    f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_kind_has_its_own_colour() -> None:
    values = [colour.value for colour in looks.COLOURS.values()]
    assert len(set(values)) == len(values), looks.COLOURS
    # Discord draws a colour of 0 as no colour at all.
    assert all(0 < value <= 0xFFFFFF for value in values)
    for name, colour in looks.COLOURS.items():
        assert getattr(looks, name.upper()) is colour


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_kinds_stay_apart_under_colour_vision_deficiencies(deficiency: str) -> None:
    seen = {name: lab(colour.to_rgb(), DEFICIENCIES[deficiency]) for name, colour in looks.COLOURS.items()}
    closest = min((float(np.linalg.norm(seen[a] - seen[b])), a, b) for a, b in itertools.combinations(seen, 2))
    assert closest[0] >= DISTINCT, f"{closest[1]} and {closest[2]} look alike with {deficiency}: ΔE {closest[0]:.1f}"


def test_the_simulation_tells_a_red_green_pair_apart_only_in_normal_vision() -> None:
    """The check above can fail: red and green, distinct to most eyes, merge for a deuteranope."""
    red, green = (0xCC, 0x33, 0x33), (0x33, 0x99, 0x33)  # of about one lightness
    distance = {d: float(np.linalg.norm(lab(red, m) - lab(green, m))) for d, m in DEFICIENCIES.items()}
    assert distance["normal"] >= DISTINCT > distance["deuteranopia"]


def embed_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("discord.Embed", "Embed"):
                calls.append((f"{path.relative_to(BOT.parent)}:{node.lineno}", node))
    return calls


def test_every_embed_the_bot_builds_takes_a_kind_colour() -> None:
    calls = embed_calls()
    assert len(calls) >= 15, "the scan found too few embeds to be reading the bot's code"
    kinds = {name.upper() for name in looks.COLOURS}
    plain = []
    for where, call in calls:
        colour = next((k.value for k in call.keywords if k.arg in ("colour", "color")), None)
        if not (isinstance(colour, ast.Attribute) and ast.unparse(colour.value) == "looks" and colour.attr in kinds):
            plain.append(where)
    assert not plain, f"embeds without a looks.<KIND> colour: {plain}"


def test_a_picture_is_only_an_absolute_https_url_discord_accepts() -> None:
    good = "https://lastfm.freetls.fastly.net/i/u/300x300/0a1b2c3d4e5f.png"
    assert looks.picture(good) == good
    for bad in (
        None,
        "",
        "http://userserve-ak.last.fm/serve/252/10808.jpg",  # the 2011 data's form
        "//lastfm.freetls.fastly.net/i/u/300x300/a.png",
        "/i/u/300x300/a.png",
        "javascript:alert(1)",
        "https://",
        " " + good,
        "https://example.com/a b.png",
        "https://example.com/" + "a" * looks.URL_LIMIT,
        f"https://lastfm.freetls.fastly.net/i/u/300x300/{looks.LASTFM_PLACEHOLDER}.png",
    ):
        assert looks.picture(bad) is None, bad


def test_the_2011_pictures_are_all_plain_http_so_no_catalogue_artist_gets_one(lastfm_dir: Path) -> None:
    artists = load_hetrec(lastfm_dir).artists
    pictures = artists["picture_url"].fillna("").astype(str)
    assert len(pictures) > 10_000
    assert not pictures.str.startswith("https://").any()
    hosts = set(pictures[pictures != ""].str.extract(r"^http://([^/]+)/")[0])
    assert hosts == {"userserve-ak.last.fm"}, hosts
    catalogue = ArtistCatalogue(artists)
    assert not any(artist.picture_url for artist in catalogue)


def catalogue_with_pictures() -> ArtistCatalogue:
    frame = pd.DataFrame(
        {
            "artist_id": [1, 2, 3],
            "name": ["Pictured", "Old picture", "No picture"],
            "url": ["", "", ""],
            "picture_url": ["https://lastfm.freetls.fastly.net/i/u/300x300/0a1b.png", "http://old.example/1.jpg", None],
        }
    )
    return ArtistCatalogue(frame, {1: 3, 2: 2, 3: 1})


def test_the_catalogue_keeps_https_pictures_only_and_extending_it_keeps_them() -> None:
    catalogue = catalogue_with_pictures()
    assert [a.picture_url for a in catalogue] == ["https://lastfm.freetls.fastly.net/i/u/300x300/0a1b.png", "", ""]
    extended = catalogue.extended([(9, "Added", None)])
    assert extended.get(1).picture_url == catalogue.get(1).picture_url and extended.get(9).picture_url == ""


def reply_body(embed: discord.Embed) -> dict:
    return {"type": 4, "data": {"embeds": [embed.to_dict()], "flags": 64, "allowed_mentions": {"parse": []}}}


def test_a_thumbnail_is_set_only_for_a_usable_picture_and_passes_discords_spec() -> None:
    catalogue = catalogue_with_pictures()
    validator = OpenAPIValidator(openapi_spec_path())
    pictured = looks.thumbnail(discord.Embed(title="Why Pictured?", colour=looks.WHY), catalogue.get(1))
    assert pictured.thumbnail.url == catalogue.get(1).picture_url
    assert validator.validate("POST", CALLBACK, reply_body(pictured)) == []
    for artist in (catalogue.get(2), catalogue.get(3), None):
        plain = looks.thumbnail(discord.Embed(title="x"), artist)
        assert plain.thumbnail.url is None and "thumbnail" not in plain.to_dict()


def test_discords_spec_refuses_the_urls_picture_turns_away_for_length() -> None:
    """URL_LIMIT is the spec's: one character more and the emulator would refuse the reply."""
    validator = OpenAPIValidator(openapi_spec_path())
    too_long = "https://example.com/" + "a" * (looks.URL_LIMIT - len("https://example.com/") + 1)
    embed = discord.Embed(title="x").set_thumbnail(url=too_long)
    assert validator.validate("POST", CALLBACK, reply_body(embed))
    assert looks.picture(too_long) is None and looks.picture(too_long[:-1]) == too_long[:-1]


# -- the taste card ------------------------------------------------------------------------------


def drawn_texts(figure) -> list[Text]:
    figure.canvas.draw()
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_the_taste_card_has_a_legend_palette_colours_and_phone_sized_text() -> None:
    rows = [("alternative", 0.25, 0.1), ("metal", 0.0, 0.35), ("trip-hop", 0.15, 0.0)]
    with rc_context({"text.parse_math": False}):
        figure = taste_card_figure("Alice", "Bob", rows, 87, "very similar taste")
        texts = drawn_texts(figure)
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Alice", "Bob"]
    assert {LEFT_COLOUR, RIGHT_COLOUR} <= set(palette.OKABE_ITO)
    bars = {patch.get_facecolor()[:3] for axes in figure.axes for patch in axes.patches}
    hexes = {"#" + "".join(f"{round(c * 255):02X}" for c in rgb) for rgb in bars}
    assert hexes == {LEFT_COLOUR, RIGHT_COLOUR}
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < palette.MIN_FONT_POINTS]
    assert not small, small
    assert {"alternative", "metal", "trip-hop", "35%"} <= {t.get_text() for t in texts}
