"""`genrebot demo` (the README's main command), run as a member would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.services.playlist_plan import playlist_name
from sandbox.library import demo_library, demo_playlist_songs

DEMO_SONGS = len(demo_library())
ROAD_TRIP_SONGS = len(demo_playlist_songs())  # and one local file, which is skipped


def genrebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], env={**env, "PYTHONPATH": str(Path.cwd())},
                          cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.fixture
def demo_data(tmp_path: Path) -> Path:
    return tmp_path / "demo-data"


def run_json(demo_data: Path, env: dict[str, str]) -> dict[str, Any]:
    result = genrebot("demo", "--json", "--data-dir", str(demo_data), env=env, cwd=demo_data.parent)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_demo_sorts_every_demo_song_into_linked_playlists_or_unsorted(clean_env: dict[str, str], demo_data: Path) -> None:
    """Every song of the demo library is in one playlist or unsorted; each playlist has a Spotify link."""
    result = run_json(demo_data, clean_env)
    assert result["total_songs"] == DEMO_SONGS
    assert sum(p["count"] for p in result["playlists"]) + result["unsorted"] == DEMO_SONGS
    assert {p["name"] for p in result["playlists"]} >= {playlist_name(f) for f in ("rock", "latin", "hip-hop")}
    assert all(p["url"].startswith("https://open.spotify.com/playlist/") for p in result["playlists"])
    assert Path(result["chart"]).read_bytes().startswith(b"\x89PNG")


def test_demo_twice_updates_the_same_playlists(clean_env: dict[str, str], demo_data: Path) -> None:
    """The second run finds the playlists the first made and makes none."""
    first = run_json(demo_data, clean_env)
    second = run_json(demo_data, clean_env)
    assert [(p["name"], p["id"], p["count"]) for p in second["playlists"]] == [
        (p["name"], p["id"], p["count"]) for p in first["playlists"]]
    assert not any(p["created"] for p in second["playlists"])


def test_demo_sorts_the_demo_members_playlist_after_liked_songs(clean_env: dict[str, str], demo_data: Path) -> None:
    """Road Trip gets playlists of its own, named after it; its local file is skipped; a rerun reuses them."""
    first = run_json(demo_data, clean_env)["playlist_source"]
    assert first["source"] == "Road Trip" and first["total_songs"] == ROAD_TRIP_SONGS == 37
    assert first["skipped"] == {"local file": 1}
    assert sum(p["count"] for p in first["playlists"]) + first["unsorted"] == ROAD_TRIP_SONGS
    assert first["playlists"] and all(p["name"].endswith(" · Road Trip · genrebot") for p in first["playlists"])
    assert Path(first["chart"]).read_bytes().startswith(b"\x89PNG")
    second = run_json(demo_data, clean_env)["playlist_source"]
    assert [p["id"] for p in second["playlists"]] == [p["id"] for p in first["playlists"]]
    assert not any(p["created"] for p in second["playlists"])


def test_demo_prints_what_the_member_would_see_and_its_progress(clean_env: dict[str, str], demo_data: Path) -> None:
    """Text mode prints the Discord reply as text; progress goes to stderr."""
    result = genrebot("demo", "--data-dir", str(demo_data), env=clean_env, cwd=demo_data.parent)
    assert result.returncode == 0, result.stderr
    assert "Linked as Demo Member." in result.stdout and "Genre-mix chart:" in result.stdout
    assert f"Sorted {DEMO_SONGS:,} liked songs" in result.stdout
    assert f"Sorted {ROAD_TRIP_SONGS} songs from Road Trip" in result.stdout
    assert f"Read {DEMO_SONGS} of {DEMO_SONGS} liked songs" in result.stderr
