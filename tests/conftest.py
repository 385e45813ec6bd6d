"""Shared fixtures: paths to ../shared and a clean environment for subprocess runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data" / "spotify_songs.csv.gz"
SPECS = SHARED / "specs"


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no genrebot, Discord or Spotify variables, run from an empty dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SPOTIFY_", "SPOTIPY_", "TOKEN_", "DATABASE_", "MODEL_"))
    }
    env["HOME"] = str(tmp_path)
    return env
