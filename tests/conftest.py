"""Shared fixtures: paths to ../shared and a clean environment for subprocess runs."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data" / "spotify_songs.csv.gz"
SPECS = SHARED / "specs"


# Where a `genrebot run` a test starts finds "Spotify" unless the test gives it a sandbox: a closed
# port on this machine, so no test can send credentials (placeholders or not) to the real Spotify.
NO_SPOTIFY = {"SPOTIFY_ACCOUNTS_BASE": "http://127.0.0.1:1", "SPOTIFY_API_BASE": "http://127.0.0.1:1/v1"}


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no genrebot, Discord or Spotify variables, run from an empty dir, except
    Spotify's addresses: a closed local port (NO_SPOTIFY), never the real service."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SPOTIFY_", "SPOTIPY_", "TOKEN_", "DATABASE_", "MODEL_"))
    }
    env["HOME"] = str(tmp_path)
    return {**env, **NO_SPOTIFY}


def ephemeral_ports() -> range:
    """The ports the kernel hands out for port 0 and outgoing connections (Linux's default elsewhere)."""
    try:
        low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


@pytest.fixture
def callback_port() -> int:
    """A free port for the bot's OAuth callback, chosen below the ephemeral range.

    The port is chosen before the bot binds it (its redirect URI is registered first), so it must
    stay free meanwhile. pytest-asyncio's `unused_tcp_port` returns an ephemeral port, which the
    kernel may give meanwhile to a stand-in bound to port 0 or to an outgoing connection (seen:
    "Address already in use" in a CI run). Below that range only an explicit bind can take it."""
    ephemeral = ephemeral_ports()
    candidates = [p for p in range(10_000, 65_536) if p not in ephemeral]
    for port in random.SystemRandom().sample(candidates, min(200, len(candidates))):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")
