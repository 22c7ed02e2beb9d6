"""Last.fm's web API: a client for a member's top artists (the fake of the API for tests is fake_lastfm)."""

from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, TopArtist

__all__ = ["LastFmClient", "LastFmError", "LastFmErrorKind", "TopArtist"]
