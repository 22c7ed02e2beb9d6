"""Offline evaluation: ranking metrics and the protocols of the evaluation (benchmarks/README.md)."""
