"""Which of CI's two lanes runs a test (.ci/run: `make test` beside a PostgreSQL pass on the second core).

A few tests take minutes and gain nothing from running twice; under CI they run once, in the PostgreSQL
lane, which is the store they are meant for anyway. Locally (no CI=true) they run in `make test`.
"""

from __future__ import annotations

import os

import pytest

in_the_postgresql_lane = pytest.mark.skipif(
    os.environ.get("CI") == "true" and not os.environ.get("ENCORE_TEST_DATABASE_URL"),
    reason="under CI this test runs once, in the PostgreSQL lane of .ci/run",
)
