"""Offline evaluation: ranking metrics and the protocols of BENCHMARKS.md."""
