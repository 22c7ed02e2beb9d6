"""/taste's picture: two members' top genres as a mirrored horizontal bar chart, as a PNG.

The two members are told apart by side and by a legend as well as by colour, and the colours are
the Okabe-Ito blue and orange (`recommender.palette`), which stay apart under the common colour-vision
deficiencies; no text is smaller than `palette.MIN_FONT_POINTS`, so the card reads on a phone.
Uses matplotlib's Agg canvas on a `Figure` of its own (never pyplot's global state), so it is safe to
call from a worker thread: `await asyncio.to_thread(render_taste_card, ...)`. About 60-120 ms.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from recommender import palette
from recommender.text import clean_user_text

LEFT_COLOUR = palette.BLUE
RIGHT_COLOUR = palette.ORANGE
FONT = palette.MIN_FONT_POINTS
BACKGROUND = "#FFFFFF"
INK = "#23272A"
MUTED = "#80848E"
NAME_LIMIT = 24


def _name(text: str) -> str:
    """A display name fit for a chart label: clean, short (names are never parsed as math, see below)."""
    cleaned = clean_user_text(str(text)) or "?"
    return cleaned if len(cleaned) <= NAME_LIMIT else cleaned[: NAME_LIMIT - 1] + "…"


def render_taste_card(
    left_name: str,
    right_name: str,
    rows: Sequence[tuple[str, float, float]],
    percent: int | None = None,
    words: str = "",
) -> bytes:
    """PNG bytes: one row per genre (genre, left share, right share), left member's bars to the left."""
    # Member names are user text: "$x$" must not become mathtext, and no TeX is ever run. The same rc
    # values as `session_recap`, so the two may render at once in threads (every text sets its size).
    with rc_context({"text.parse_math": False, "text.usetex": False, "font.size": 11}):
        figure = taste_card_figure(left_name, right_name, rows, percent, words)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", facecolor=BACKGROUND, bbox_inches="tight", pad_inches=0.3)
    return buffer.getvalue()


def taste_card_figure(
    left_name: str,
    right_name: str,
    rows: Sequence[tuple[str, float, float]],
    percent: int | None = None,
    words: str = "",
) -> Figure:
    """The card as a `Figure` on its own Agg canvas; call it inside `render_taste_card`'s rc context."""
    left, right = _name(left_name), _name(right_name)
    rows = list(rows)[:10]
    # Laid out in inches: a header (title, subtitle, legend), then one 0.46-inch band per genre.
    header, band, footer = 1.5, 0.46, 0.25
    height = header + band * max(len(rows), 1) + footer
    figure = Figure(figsize=(7, height), dpi=110, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.04, footer / height, 0.92, (height - header - footer) / height))
    figure.text(
        0.5,
        1 - 0.22 / height,
        f"{left}  vs  {right}",
        ha="center",
        va="top",
        fontsize=FONT + 3,
        fontweight="bold",
        color=INK,
    )
    if percent is not None:
        subtitle = f"more alike than {percent}% of pairs of listeners" + (f": {words}" if words else "")
        figure.text(0.5, 1 - 0.62 / height, subtitle, ha="center", va="top", fontsize=FONT, color=MUTED)
    if not rows:
        axes.set_axis_off()
        axes.text(
            0.5,
            0.5,
            "no genre tags to compare yet",
            ha="center",
            va="center",
            fontsize=FONT,
            color=MUTED,
            transform=axes.transAxes,
        )
    else:
        _bars(axes, rows)
        figure.legend(
            handles=[Patch(color=LEFT_COLOUR, label=left), Patch(color=RIGHT_COLOUR, label=right)],
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 0.95 / height),
            ncol=2,
            frameon=False,
            fontsize=FONT + 0.5,
            handlelength=1.4,
            columnspacing=2.0,
        )
    return figure


def _bars(axes, rows: list[tuple[str, float, float]]) -> None:
    positions = list(range(len(rows)))[::-1]  # the first genre on top
    lefts = [100 * a for _, a, _ in rows]
    rights = [100 * b for _, _, b in rows]
    widest = max(max(lefts), max(rights), 1.0)
    gap = widest * 0.5  # room in the middle for the genre names
    axes.barh(positions, [-v for v in lefts], left=-gap, color=LEFT_COLOUR, height=0.68)
    axes.barh(positions, rights, left=gap, color=RIGHT_COLOUR, height=0.68)
    for y, (genre, a, b) in zip(positions, rows):
        axes.text(0, y, genre, ha="center", va="center", fontsize=FONT + 0.5, color=INK)
        if a > 0:
            axes.text(
                -gap - 100 * a - widest * 0.02,
                y,
                f"{100 * a:.0f}%",
                ha="right",
                va="center",
                fontsize=FONT,
                color=MUTED,
            )
        if b > 0:
            axes.text(
                gap + 100 * b + widest * 0.02, y, f"{100 * b:.0f}%", ha="left", va="center", fontsize=FONT, color=MUTED
            )
    reach = gap + widest * 1.22
    axes.set_xlim(-reach, reach)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_axis_off()
