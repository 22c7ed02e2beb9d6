"""What the benchmarks share: where the data set is, and what each result records beside its numbers."""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from recommender.datasets import ENV_VAR, resolve_data_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "results"
#: The team's copy beside a checkout (../shared), used when neither --data nor ENCORE_LASTFM_DIR says otherwise.
SIBLING_DATA = REPO_ROOT.parent / "shared" / "data" / "hetrec2011-lastfm-2k"


def data_dir(explicit: Path | None) -> Path:
    """The HetRec folder: `explicit`, else ENCORE_LASTFM_DIR, else ../shared beside the checkout, else the cache."""
    if explicit is None and not os.environ.get(ENV_VAR) and (SIBLING_DATA / "user_artists.dat").is_file():
        return SIBLING_DATA
    return resolve_data_dir(explicit)


def machine(**extra: object) -> dict:
    """The machine a benchmark ran on (CPUs, Python, BLAS threads), with `extra` fields after them."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    } | extra


def write_result(path: Path, report: dict) -> None:
    """Write a benchmark's result as indented JSON, making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def benchmark_parser(doc: str | None, result_path: Path) -> argparse.ArgumentParser:
    """The options every benchmark on the Last.fm data takes: --data-dir and --out."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=result_path)
    return parser
