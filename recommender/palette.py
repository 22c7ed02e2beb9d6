"""The Okabe-Ito colours, shared by the report's plots and the bot's embeds and pictures.

Okabe and Ito chose these eight so that they stay apart under the common colour-vision deficiencies
(protanopia, deuteranopia, tritanopia) as well as in normal vision. This module imports nothing, so
both `recommender.evaluation` and `bot/` may use it without either reaching into the other.
"""

from __future__ import annotations

__all__ = [
    "BLACK",
    "BLUE",
    "GREY",
    "LIGHT_GREY",
    "MIN_FONT_POINTS",
    "OKABE_ITO",
    "ORANGE",
    "REDDISH_PURPLE",
    "SKY_BLUE",
    "SLATE",
    "VERMILLION",
    "YELLOW",
    "BLUISH_GREEN",
]

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
#: The grey commonly paired with the palette for neutral marks (baselines, "other").
GREY = "#999999"
#: Two more neutrals, apart from the hues and from each other by lightness, which every colour vision
#: sees (`GREY` itself is about as light as `REDDISH_PURPLE` looks to a deuteranope).
LIGHT_GREY = "#C8C8C8"
SLATE = "#5F6B7A"

#: The palette in Okabe and Ito's order.
OKABE_ITO = (BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE)

#: Smallest font, in points, for text in a chart that members read on a phone.
MIN_FONT_POINTS = 12
