"""Benchmarks that print tables: `python -m bench` runs them all (not part of the test suite)."""
