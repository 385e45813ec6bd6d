"""`genrebot demo` (the README's main command), run as a member would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.services.genre_names import playlist_name, resolve_pick
from bot.services.playlist_plan import SortOptions
from classifier import Classifier
from sandbox.library import demo_library, demo_playlist_songs, demo_songs
from tests.classifier.known_songs import by_artists_in_the_table

DEMO_SONGS = len(demo_library())
ROAD_TRIP_SONGS = len(demo_playlist_songs())  # and one local file, which is skipped


def listener_families() -> set[str]:
    """The families of the genres a listener gave the demo songs (the demo library's own column),
    as the shipped model's taxonomy names them."""
    taxonomy = Classifier.load().taxonomy
    picks = {resolve_pick(song.genre, taxonomy) for song in demo_songs()}
    assert None not in picks, "every listener genre of the demo library is in the taxonomy"
    return {taxonomy.label(pick.family, "family") for pick in picks if pick is not None}


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
    assert set(result["families"]) >= listener_families() and sum(result["families"].values()) == DEMO_SONGS
    smallest = SortOptions().min_playlist_size  # a family with fewer songs gets no playlist: they stay unsorted
    assert {p["family"] for p in result["playlists"]} == {f for f, n in result["families"].items() if n >= smallest}
    assert result["unsorted"] == sum(n for n in result["families"].values() if n < smallest)
    assert len(result["playlists"]) >= 15
    assert all(p["name"] == playlist_name(p["family"]) for p in result["playlists"])
    assert all(p["url"].startswith("https://open.spotify.com/playlist/") for p in result["playlists"])
    assert Path(result["chart"]).read_bytes().startswith(b"\x89PNG")
    known = len(by_artists_in_the_table(Classifier.load(), demo_library()))
    assert result["known_artists"] == {"songs": DEMO_SONGS, "known": known}


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
    assert all(f"{family} · genrebot" in result.stdout for family in ("Rock", "Jazz & Blues", "East Asian Pop & Rock"))
    assert "Families: " in result.stdout
    assert f"Sorted {DEMO_SONGS:,} liked songs" in result.stdout
    assert f"Sorted {ROAD_TRIP_SONGS} songs from Road Trip" in result.stdout
    assert f"Read {DEMO_SONGS} of {DEMO_SONGS} liked songs" in result.stderr


def test_demo_says_how_many_songs_are_by_artists_the_model_knows(clean_env: dict[str, str], demo_data: Path) -> None:
    """The demo prints /sort's 'Artists new to me' line with the demo library's counts (it knows fewer
    than nine in ten of its artists, so the line is due)."""
    known = len(by_artists_in_the_table(Classifier.load(), demo_library()))
    assert known < 0.9 * DEMO_SONGS, "the shipped model knows nearly every demo artist: pick a library it does not"
    result = genrebot("demo", "--data-dir", str(demo_data), env=clean_env, cwd=demo_data.parent)
    assert result.returncode == 0, result.stderr
    assert (f"Artists new to me: I know the artists of {known} of these {DEMO_SONGS} songs. "
            f"The other {DEMO_SONGS - known} are by artists new to me") in result.stdout


def test_demo_logs_no_error_for_the_audio_features_it_is_expected_to_be_refused(
        clean_env: dict[str, str], demo_data: Path) -> None:
    """The demo app gets no audio features, as a 2026 app: said once in words, not as spotipy's ERROR line."""
    result = genrebot("demo", "--data-dir", str(demo_data), env=clean_env, cwd=demo_data.parent)
    assert result.returncode == 0, result.stderr
    assert "Spotify refuses /audio-features to this app" in result.stderr
    assert " ERROR " not in result.stderr and "HTTP Error" not in result.stderr, result.stderr


def copy_of_checkout(tmp_path: Path) -> Path:
    """A second clone of this repository (its code, not its .venv or history)."""
    import shutil

    copy = tmp_path / "second-clone"
    shutil.copytree(Path.cwd(), copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "*.egg-info", "__pycache__", ".*_cache", "bench", "docs"))
    return copy


def test_each_checkout_keeps_its_own_demo_state(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Without --data-dir, a second clone's first demo starts afresh: its own playlists, every song new."""
    runs = []
    for checkout in (Path.cwd(), copy_of_checkout(tmp_path)):
        result = subprocess.run([sys.executable, "-m", "genrebot_cli", "demo", "--json"], cwd=checkout,
                                env={**clean_env, "PYTHONPATH": str(checkout)}, capture_output=True, text=True,
                                timeout=240)
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
    first, second = runs
    assert first["data_dir"] != second["data_dir"]
    assert all(Path(run["data_dir"]).is_relative_to(tmp_path / ".local" / "share" / "genrebot" / "demo") for run in runs)
    assert all(p["created"] for p in second["playlists"])  # not the first clone's playlists


def test_demo_marks_its_playlist_links_as_stand_in_only(clean_env: dict[str, str], demo_data: Path) -> None:
    """Every Spotify-looking link in the demo's output says the playlist exists only in the stand-in."""
    result = genrebot("demo", "--data-dir", str(demo_data), env=clean_env, cwd=demo_data.parent)
    assert result.returncode == 0, result.stderr
    linked = [line for line in result.stdout.splitlines() if "https://open.spotify.com/" in line]
    assert linked and all(line.endswith("(stand-in only)") for line in linked)
    assert "do not exist on open.spotify.com" in result.stdout
    assert all(p["stand_in"] for p in run_json(demo_data, clean_env)["playlists"])


def test_demo_data_dir_that_is_a_file_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`demo --data-dir FILE`: one line naming the flag, exit 2, the file untouched."""
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    result = genrebot("demo", "--data-dir", str(existing), env=clean_env, cwd=tmp_path)
    assert result.returncode == 2 and "--data-dir" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and existing.read_text() == "mine"


def test_demo_whose_default_folder_cannot_be_made_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """No --data-dir and a user data directory that cannot be written (a read-only home, a container's
    HOME=/; here a file in the way): one line naming the folder and --data-dir, exit 2."""
    (tmp_path / "share").write_text("a file")
    result = genrebot("demo", env={**clean_env, "XDG_DATA_HOME": str(tmp_path / "share")}, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"genrebot demo: cannot create {tmp_path / 'share' / 'genrebot' / 'demo'}")
    assert "--data-dir" in result.stderr
