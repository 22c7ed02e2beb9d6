"""Last.fm's web API: a client for a member's top artists, and a local fake of the API for tests and demos."""

from bot.lastfm.client import LastFmClient, LastFmError, LastFmErrorKind, TopArtist

__all__ = ["LastFmClient", "LastFmError", "LastFmErrorKind", "TopArtist"]
