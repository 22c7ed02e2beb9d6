"""A listening session's recap as a PNG: each artist proposed, in order, with its Into it / Not for me votes.

Diverging horizontal bars around a zero line (Not for me to the left, Into it to the right), favourites
starred and in bold, so nothing rests on colour alone; the colours are from the Okabe-Ito palette, which
stays distinct under the common colour-vision deficiencies. Like `taste_card`, it draws on a `Figure` of
its own with the Agg canvas (never pyplot's global state), so it is safe in a worker thread:
`await asyncio.to_thread(render_session_recap, recap, channel="lounge")`.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch

from recommender.text import clean_user_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from bot.services.sessions.recap import ArtistVotes, Recap

INTO_COLOUR = "#0072B2"  # Okabe-Ito blue
NOT_COLOUR = "#E69F00"  # Okabe-Ito orange
FAVOURITE_BAND = "#F3F0FF"
BACKGROUND = "#FFFFFF"
INK = "#23272A"
MUTED = "#80848E"
STAR = "★"
#: The rows drawn; a longer session says how many more it proposed under the chart.
MAX_ROWS = 20
NAME_LIMIT = 28
CHANNEL_LIMIT = 22
#: Tried in order for each glyph; only those installed are used (DejaVu Sans ships with matplotlib).
FONT_FAMILIES = ("DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Symbols 2")
#: Drawn for a character no installed font has, instead of matplotlib's warning and an empty box.
MISSING_GLYPH = "□"


@functools.cache
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """The installed families of `FONT_FAMILIES`, and every code point one of them can draw."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    families = tuple(name for name in FONT_FAMILIES if name in installed) or ("DejaVu Sans",)
    covered: set[int] = set()
    for name in families:
        path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=True)
        covered.update(FT2Font(path).get_charmap())
    return families, frozenset(covered)


def _text(value: object, limit: int) -> str:
    """User or catalogue text fit for a label: clean, short, and only glyphs the fonts have.

    Labels are never parsed as math (see `render_session_recap`), so "$" and "\\" are drawn as they are.
    """
    cleaned = clean_user_text(str(value)) or "?"
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    covered = _fonts()[1]
    return "".join(ch if ch == " " or ord(ch) in covered else MISSING_GLYPH for ch in cleaned)


def _subtitle(recap: Recap) -> str:
    session = recap.session
    when = session.ended_at or session.started_at
    members = len(recap.new_likes)
    proposed = len(recap.proposed)
    return " · ".join(
        (
            f"{when.day} {when:%b %Y}",
            f"{members} member{'s' if members != 1 else ''}",
            f"{proposed} artist{'s' if proposed != 1 else ''} proposed",
        )
    )


def render_session_recap(recap: Recap, *, channel: str = "") -> bytes:
    """PNG bytes: the title (session, channel), the date and counts, then one row per artist proposed."""
    families = list(_fonts()[0])
    title = f"Listening session #{recap.session.id}" + (f"  ·  #{_text(channel, CHANNEL_LIMIT)}" if channel else "")
    rows = list(recap.proposed[:MAX_ROWS])
    hidden = len(recap.proposed) - len(rows)
    # Laid out in inches: the header (title, subtitle, legend), one band per artist, a footer.
    header, footer = 1.55, 0.35 + (0.3 if hidden else 0)
    band = 0.5 if len(rows) <= 10 else 0.38
    height = header + band * max(len(rows), 1.6) + footer
    # The same rc values as `taste_card`, so the two may render at once in threads; names are user text:
    # "$x$" must not become mathtext, and no TeX is ever run.
    with rc_context({"text.parse_math": False, "text.usetex": False, "font.size": 12}):
        figure = Figure(figsize=(7, height), dpi=110, facecolor=BACKGROUND)
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0.38, footer / height, 0.58, (height - header - footer) / height))
        figure.text(
            0.5,
            1 - 0.2 / height,
            title,
            ha="center",
            va="top",
            fontsize=15,
            fontweight="bold",
            color=INK,
            fontfamily=families,
        )
        figure.text(
            0.5,
            1 - 0.6 / height,
            _subtitle(recap),
            ha="center",
            va="top",
            fontsize=12,
            color=MUTED,
            fontfamily=families,
        )
        if rows:
            _bars(axes, recap, rows, families)
            _legend(figure, height, bool(recap.favourites))
        else:
            axes.set_axis_off()
            axes.text(
                0.5,
                0.5,
                "no artist was proposed",
                ha="center",
                va="center",
                fontsize=12.5,
                color=MUTED,
                transform=figure.transFigure,
            )
        if hidden:
            figure.text(
                0.5,
                0.3 / height,
                f"and {hidden} more artist{'s' if hidden != 1 else ''}, listed in the recap",
                ha="center",
                va="center",
                fontsize=12,
                color=MUTED,
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor=BACKGROUND, bbox_inches="tight", pad_inches=0.3)
    return buffer.getvalue()


def _bars(axes: Axes, recap: Recap, rows: list[ArtistVotes], families: list[str]) -> None:
    favourites = {artist.artist_id for artist in recap.favourites}
    positions = list(range(len(rows)))[::-1]  # the first artist proposed on top
    into = [row.into_it for row in rows]
    against = [row.not_for_me for row in rows]
    widest = max(max(into), max(against), 1)
    for y, row in zip(positions, rows):
        if row.artist.artist_id in favourites:
            axes.axhspan(y - 0.5, y + 0.5, color=FAVOURITE_BAND, zorder=0)
    axes.barh(positions, into, color=INTO_COLOUR, height=0.62, zorder=2)
    axes.barh(positions, [-v for v in against], color=NOT_COLOUR, height=0.62, zorder=2)
    axes.axvline(0, color=MUTED, linewidth=1, zorder=3)
    nudge = widest * 0.04
    for y, a, b in zip(positions, into, against):
        if a:
            axes.text(a + nudge, y, str(a), ha="left", va="center", fontsize=12, color=INK, fontweight="bold")
        if b:
            axes.text(-b - nudge, y, str(b), ha="right", va="center", fontsize=12, color=INK, fontweight="bold")
        if not a and not b:
            axes.text(nudge, y, "no votes", ha="left", va="center", fontsize=12, color=MUTED)
    reach = widest * 1.25 + 0.3
    axes.set_xlim(-reach, reach)
    axes.set_ylim(-0.5, len(rows) - 0.5)
    axes.set_yticks(positions)
    labels = [
        f"{STAR} {_text(row.artist.name, NAME_LIMIT)}"
        if row.artist.artist_id in favourites
        else _text(row.artist.name, NAME_LIMIT)
        for row in rows
    ]
    axes.set_yticklabels(labels, fontsize=12.5, color=INK, fontfamily=families)
    for label, row in zip(axes.get_yticklabels(), rows):
        if row.artist.artist_id in favourites:
            label.set_fontweight("bold")
    axes.tick_params(axis="y", length=0, pad=8)
    axes.set_xticks([])
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_facecolor(BACKGROUND)


def _legend(figure: Figure, height: float, favourites: bool) -> None:
    handles = [Patch(color=NOT_COLOUR, label="Not for me"), Patch(color=INTO_COLOUR, label="Into it")]
    if favourites:
        handles.append(Patch(facecolor=FAVOURITE_BAND, edgecolor=MUTED, label=f"{STAR} favourite"))
    figure.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.95 / height),
        ncol=len(handles),
        frameon=False,
        fontsize=12,
        handlelength=1.4,
        columnspacing=1.6,
    )
