"""Helpers shared by the test packages; test modules import them from here, never from conftest."""
