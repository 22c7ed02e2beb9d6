"""A local stand-in for Last.fm's web API (``user.getTopArtists``, ``artist.getInfo``, ``artist.getSimilar``,
``artist.getTopTags``), for tests and the demo.

A test double, not part of Encore's Last.fm client: it imports nothing of Encore.
"""

from fake_lastfm.artists import POST_2011_ARTISTS, FakeArtist
from fake_lastfm.server import API_PATH, DEFAULT_API_KEY, Failure, FakeLastFm, FakeRequest

__all__ = ["API_PATH", "DEFAULT_API_KEY", "POST_2011_ARTISTS", "Failure", "FakeArtist", "FakeLastFm", "FakeRequest"]
