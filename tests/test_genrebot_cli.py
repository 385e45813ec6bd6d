"""The `genrebot` command line: help, subcommands and configuration errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GENREBOT = [sys.executable, "-m", "genrebot_cli"]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GENREBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_help_lists_each_subcommand_with_a_description(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot --help` names every subcommand that exists, each with a one-line description."""
    from genrebot_cli import build_parser

    result = run_cli(["--help"], clean_env, tmp_path)
    assert result.returncode == 0
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert "run" in subparsers.choices
    for action in subparsers._choices_actions:
        assert action.help, f"{action.dest} has no description"
        assert action.dest in result.stdout


def test_run_without_discord_token_names_the_variable_and_exits_2(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    """A missing DISCORD_TOKEN is one line naming it, exit status 2, no traceback."""
    result = run_cli(["run"], clean_env, tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_malformed_variable_is_named(clean_env: dict[str, str], tmp_path: Path) -> None:
    """A malformed value (a localhost redirect URI, a non-numeric port) is named in the error."""
    env = {**clean_env, "SPOTIFY_REDIRECT_URI": "http://localhost:8888/callback", "WEB_PORT": "eighty"}
    result = run_cli(["run"], env, tmp_path)
    assert result.returncode == 2
    assert "SPOTIFY_REDIRECT_URI" in result.stderr and "WEB_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_dotenv_file_is_read(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Variables in ./.env count: with the Spotify ones there, only DISCORD_TOKEN is missing."""
    (tmp_path / ".env").write_text("SPOTIFY_CLIENT_ID=abc\nSPOTIFY_CLIENT_SECRET=def\n")
    result = run_cli(["run"], clean_env, tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "SPOTIFY_CLIENT_ID" not in result.stderr
