"""The CLI tests run `encore` in subprocesses; this keeps any in-process BLAS single-threaded too."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
