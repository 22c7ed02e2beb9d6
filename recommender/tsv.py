"""Strict parsing of tab-separated text: every line has exactly the expected fields, or it fails."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Mapping, Sequence

import pandas as pd


class RaggedTable(ValueError):
    """Some line has too few or too many fields."""


def read_exact_tsv(text: str, columns: Sequence[str], dtypes: Mapping[str, object], has_header: bool) -> pd.DataFrame:
    """Parse `text` with pandas' C engine, taking every field literally (no quoting, no "NA").

    Raises RaggedTable when a line has the wrong number of fields, and pandas' own ValueError or
    ParserError when a field does not fit its dtype; the caller finds the line to blame.
    """
    with warnings.catch_warnings():
        # A line with extra fields makes pandas warn and truncate; the tab count below catches it.
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        frame = pd.read_csv(
            io.StringIO(text),
            sep="\t",
            header=None,
            skiprows=1 if has_header else 0,
            names=list(columns),
            index_col=False,
            dtype=dict(dtypes),
            # "NA" and '"Weird Al" Yankovic' are names, not missing values or quotes.
            na_filter=False,
            quoting=csv.QUOTE_NONE,
            lineterminator="\n",
            skip_blank_lines=True,
            engine="c",
        )
    # Missing trailing text fields parse as "" rather than failing, and pandas truncates (not
    # rejects) a first data line with extra fields. It rejects extra fields anywhere else, so with
    # the first line checked, equal tab totals mean every line is exact.
    tabs = len(columns) - 1
    lines = (line for line in text.split("\n") if line.strip("\r"))
    if has_header:
        next(lines, None)
    first = next(lines, "")
    if text.count("\t") != tabs * (len(frame) + int(has_header)) or (first and first.count("\t") != tabs):
        raise RaggedTable("a line has the wrong number of fields")
    return frame
