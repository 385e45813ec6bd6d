"""Benchmarks that print tables: `python -m bench` runs them all (not part of the test suite).

They run the code as the `genrebot` command runs it: numpy's BLAS on one thread (set here, before
any benchmark imports numpy; see `genrebot_cli.one_blas_thread`)."""

from genrebot_cli import one_blas_thread

one_blas_thread()
