"""What every benchmark's result records beside its numbers."""

from __future__ import annotations

import os
import platform


def machine(**extra: object) -> dict:
    """The machine a benchmark ran on (CPUs, Python, BLAS threads), with `extra` fields after them."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    } | extra
