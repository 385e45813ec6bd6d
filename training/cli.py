"""Subcommands owned by the training package."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Add this package's subcommands (none yet)."""
