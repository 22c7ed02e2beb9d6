"""Tests of bot.lastfm: the Last.fm API client against the local fake API."""
