"""`UsageError`, the one failure every `genrebot` subcommand may raise: a leaf module.

Bad input or configuration becomes one line on stderr and exit status 2, never a traceback.
It lives apart from the entry point (`genrebot_cli`) so each package's `cli.py` can raise it
without importing the module that imports them.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or configuration: shown as one line, exit status 2, never a traceback."""
