"""`genrebot demo` (the README's main command) and `genrebot run --list-commands`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def genrebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], env={**env, "PYTHONPATH": str(Path.cwd())},
                          cwd=cwd, capture_output=True, text=True, timeout=180)


def test_demo_twice_updates_the_same_playlists(clean_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    first = genrebot("demo", "--json", "--data-dir", str(data), env=clean_env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert {p["name"] for p in result["playlists"]} >= {"Rock · genrebot", "Latin · genrebot", "Rap · genrebot"}
    assert sum(p["count"] for p in result["playlists"]) + result["unsorted"] == 239
    assert all(p["url"].startswith("https://open.spotify.com/playlist/") for p in result["playlists"])
    assert Path(result["chart"]).read_bytes().startswith(b"\x89PNG")
    assert result["seconds"] < 60
    second = json.loads(genrebot("demo", "--json", "--data-dir", str(data), env=clean_env, cwd=tmp_path).stdout)
    assert {p["id"] for p in second["playlists"]} == {p["id"] for p in result["playlists"]}
    assert not any(p["created"] for p in second["playlists"])
    text = genrebot("demo", "--data-dir", str(data), env=clean_env, cwd=tmp_path)
    assert "Linked as Demo Member." in text.stdout and "Genre-mix chart:" in text.stdout
    assert "Read 239 of 239 liked songs" in text.stderr  # the progress display


def test_list_commands_prints_the_tree_without_token_or_network(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = genrebot("run", "--list-commands", env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tree = {c["name"]: c for c in json.loads(result.stdout)}
    assert set(tree) == {"link", "unlink", "sort", "genres", "stats", "status", "schedule", "leaderboard", "privacy"}
    assert {o["name"] for o in tree["sort"]["options"]} == {
        "genres", "level", "min_confidence", "min_size", "multi", "dry_run"}
    assert {o["name"] for o in tree["schedule"]["options"]} == {"set", "off", "status"}
    assert all(c["description"] for c in tree.values())
