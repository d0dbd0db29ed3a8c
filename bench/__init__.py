"""Benchmarks: each module's `run()` returns rows of (figure, target, measured, passed)."""
