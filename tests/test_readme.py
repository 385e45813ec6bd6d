"""The README followed literally, as a newcomer would: its commands, on a fresh clone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NO_SPOTIFY

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
PLACEHOLDERS = {"DISCORD_TOKEN": "placeholder-discord-token", "SPOTIFY_CLIENT_ID": "placeholder-client-id",
                "SPOTIFY_CLIENT_SECRET": "placeholder-client-secret"}


def section(title: str) -> str:
    start = README.index(title)
    following = re.search(r"^#{2,3} ", README[start + len(title):], flags=re.M)
    return README[start: start + len(title) + (following.start() if following else len(README))]


def indented_commands(text: str) -> list[str]:
    """The first indented code block's lines, without their comments."""
    block = re.search(r"\n\n((?: {4}.*\n)+)", text)
    assert block, "no indented code block"
    return [line.strip().split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def fresh_clone(tmp_path: Path) -> Path:
    """What `git clone` gives: the repository's files, no .venv, no .env, no caches."""
    clone = tmp_path / "genrebot"
    shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".env", "*.egg-info", "__pycache__", ".*_cache", "build", "dist"))
    return clone


def fill_in(env_file: Path) -> None:
    """The README's "fill in DISCORD_TOKEN, SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET"."""
    text = env_file.read_text(encoding="utf-8")
    for name, value in PLACEHOLDERS.items():
        text = re.sub(rf"(?m)^{name}=$", f"{name}={value}", text)
    env_file.write_text(text, encoding="utf-8")


@pytest.mark.timeout(1500)
def test_run_it_for_real_steps_get_as_far_as_the_network_allows_and_stop_with_one_line(tmp_path: Path) -> None:
    """cp .env.example .env, fill in placeholders, make install, db migrate, run: each step exits as
    documented; `run` stops at Discord with one line, no traceback.

    The only changes to a newcomer's setting: DISCORD_API_BASE (the README's proxy variable) and
    Spotify's addresses point at a closed port on this machine, so the test never sends traffic
    beyond it (`run` warns that it could not check the Spotify app, and goes on).
    """
    commands = indented_commands(section("### 4. Install, configure and run"))
    assert commands == ["cp .env.example .env", "make install", ".venv/bin/genrebot db migrate",
                        ".venv/bin/genrebot run"]
    clone = fresh_clone(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISCORD_", "SPOTIFY_", "SPOTIPY_", "TOKEN_", "DATABASE_", "DATA_DIR", "MODEL_",
                                "VIRTUAL_ENV", "PYTHONPATH", "XDG_DATA_HOME", "LOG_LEVEL"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "user-data")  # the user data directory, kept inside the test
    env["DISCORD_API_BASE"] = "http://127.0.0.1:1/api/v10"
    env.update(NO_SPOTIFY)
    expected_status = {"cp .env.example .env": 0, "make install": 0, ".venv/bin/genrebot db migrate": 0,
                       ".venv/bin/genrebot run": 1}
    results = []
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
                                timeout=1200, stdin=subprocess.DEVNULL)
        results.append(result)
        assert result.returncode == expected_status[command], f"{command}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}:\n{result.stderr}"
        if command.startswith("cp "):
            fill_in(clone / ".env")
    migrate, run = results[2], results[3]
    database = tmp_path / "user-data" / "genrebot" / "genrebot.sqlite3"
    assert migrate.stdout.startswith(f"{database}: schema version") and database.is_file()
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("genrebot run: cannot reach Discord at http://127.0.0.1:1/api/v10"), run.stderr


def test_readme_needs_nothing_outside_the_repository() -> None:
    """Outside its Tests section, the README never points at ../shared or this machine's folders."""
    body = README[: README.index("## Tests")]
    assert "../shared" not in body and "/work/" not in body


def test_readme_names_the_public_training_data_and_their_licences() -> None:
    """Retraining names both public data sets with where to get them and their licences."""
    text = section("### Retraining")
    assert "30,000 Spotify Songs" in text and "rfordatascience/tidytuesday" in text and "MIT" in text
    assert "Spotify Tracks Dataset" in text and "huggingface.co/datasets/maharshipandya" in text
    assert "BSD" in text and "ODbL" in text


def test_the_update_steps_back_up_the_database_the_service_runs_on(tmp_path: Path) -> None:
    """The systemd section followed literally: the service (its unit's environment, .env as set up
    there) migrates its database; the Updating section's `db backup`, run by hand from the code's
    folder as the bot's user, copies that same database (it read only .env, not the unit)."""
    import sys

    clone = fresh_clone(tmp_path)
    data = tmp_path / "var-lib-genrebot"
    data.mkdir()  # the setup's `install -d`

    def local(text: str) -> str:
        genrebot = f"{sys.executable} -m genrebot_cli"  # the clone has no .venv: this interpreter
        return (text.replace("/opt/genrebot/.venv/bin/genrebot", genrebot).replace(".venv/bin/genrebot", genrebot)
                .replace("/opt/genrebot", str(clone)).replace("/var/lib/genrebot", str(data)))

    service = section("### Run it as a service (systemd)")
    setup = indented_commands(service)
    unit = re.search(r"```ini\n(.*?)```", service, flags=re.S)
    assert unit, "the unit file"
    shutil.copy(clone / ".env.example", clone / ".env")
    fill_in(clone / ".env")
    for line in setup:  # what the setup adds to .env beyond step 4
        added = re.fullmatch(r"echo '?(\w+=[^']*)'? \| sudo tee -a \.env(?: >/dev/null)?", line)
        if added:
            with (clone / ".env").open("a", encoding="utf-8") as env_file:
                env_file.write(local(added.group(1)) + "\n")
    unit_env = dict(line.removeprefix("Environment=").split("=", 1)
                    for line in local(unit.group(1)).splitlines() if line.startswith("Environment="))
    home = tmp_path / "home"  # the bot user's home (useradd --home-dir), as sudo -u sets HOME
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "SPOTIFY_", "SPOTIPY_", "TOKEN_", "DATABASE_", "DATA_DIR", "MODEL_",
                                 "XDG_DATA_HOME"))}
    base.update(HOME=str(home), PYTHONPATH=str(clone))
    pre_start = re.search(r"^ExecStartPre=(.*)$", local(unit.group(1)), flags=re.M)
    assert pre_start, "ExecStartPre"
    started = subprocess.run(pre_start.group(1).split(), cwd=clone, env={**base, **unit_env}, capture_output=True,
                             text=True, timeout=300)
    assert started.returncode == 0, started.stderr

    backup = next(line for line in indented_commands(section("### Updating")) if " db backup " in line)
    by_hand = local(backup).removeprefix("sudo -u genrebot ")
    result = subprocess.run(["bash", "-c", by_hand], cwd=clone, env=base, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{by_hand}:\n{result.stderr}"
    assert started.stdout.startswith(f"{data / 'genrebot.sqlite3'}: schema version")
    assert [p.name for p in data.glob("before-update-*.sqlite3")], "the backup beside the database"
