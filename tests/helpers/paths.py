"""Where the checkout and the team's shared data set are, for tests that run the real `encore`."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The data set beside a checkout on the team's machines (../shared), used when ENCORE_LASTFM_DIR is unset.
DEFAULT_LASTFM_DIR = REPO_ROOT.parent / "shared" / "data" / "hetrec2011-lastfm-2k"
