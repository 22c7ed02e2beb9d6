"""Tests of bot.services: refits, members' libraries, and surviving a SIGKILL."""
