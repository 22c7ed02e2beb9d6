"""A local stand-in for Last.fm's web API (``user.getTopArtists``), for tests and the demo.

A test double, not part of Encore's Last.fm client: it imports nothing of Encore.
"""

from fake_lastfm.server import API_PATH, DEFAULT_API_KEY, Failure, FakeLastFm, FakeRequest

__all__ = ["API_PATH", "DEFAULT_API_KEY", "Failure", "FakeLastFm", "FakeRequest"]
