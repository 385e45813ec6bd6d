"""`.env.example` as the README uses it: copied to `.env`, the three required values filled in."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REQUIRED = {"DISCORD_TOKEN": "placeholder-token", "SPOTIFY_CLIENT_ID": "placeholder-id",
            "SPOTIFY_CLIENT_SECRET": "placeholder-secret"}


def filled_in(text: str) -> str:
    """What a user does with the copy: the value after each required `NAME=`."""
    for name, value in REQUIRED.items():
        text, count = re.subn(rf"(?m)^{name}=$", f"{name}={value}", text)
        assert count == 1, f"{name}= is not an empty line of its own in .env.example"
    return text


def every_line_uncommented(text: str) -> str:
    """The older style: every optional variable present with an empty value (`DATA_DIR=`)."""
    return re.sub(r"(?m)^# ([A-Z_]+)=.*$", r"\1=", text)


def genrebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], env={**env, "PYTHONPATH": str(REPO)},
                          cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def user_env(clean_env: dict[str, str]) -> dict[str, str]:
    """clean_env without XDG overrides, so the user data dir is HOME/.local/share/genrebot."""
    return {k: v for k, v in clean_env.items() if not k.startswith(("XDG_", "DATA_DIR", "LOG_LEVEL"))}


@pytest.mark.parametrize("style", ["as shipped", "optional lines empty"])
def test_copied_env_example_with_required_values_migrates_into_the_user_data_dir(
        user_env: dict[str, str], tmp_path: Path, style: str) -> None:
    """`cp .env.example .env`, fill three values, `db migrate`: exit 0, database in the data dir, not here."""
    text = filled_in((REPO / ".env.example").read_text())
    if style == "optional lines empty":
        text = every_line_uncommented(text)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".env").write_text(text)
    result = genrebot("db", "migrate", env=user_env, cwd=checkout)
    assert result.returncode == 0, result.stderr
    database = tmp_path / ".local" / "share" / "genrebot" / "genrebot.sqlite3"
    assert str(database) in result.stdout and database.is_file()
    assert sorted(p.name for p in checkout.iterdir()) == [".env"]


@pytest.mark.parametrize("style", ["as shipped", "optional lines empty"])
def test_copied_env_example_with_required_values_is_valid_for_run(
        user_env: dict[str, str], tmp_path: Path, style: str) -> None:
    """The same `.env` passes `genrebot run`'s settings check (`--list-commands` builds them first)."""
    text = filled_in((REPO / ".env.example").read_text())
    if style == "optional lines empty":
        text = every_line_uncommented(text)
    (tmp_path / ".env").write_text(text)
    result = genrebot("run", "--list-commands", env=user_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"name": "sort"' in result.stdout


def test_env_example_lists_every_setting_the_bot_reads() -> None:
    """Each field of the bot's Settings has a line in .env.example (commented or not)."""
    from bot.settings import Settings

    text = (REPO / ".env.example").read_text()
    names = set(re.findall(r"(?m)^#? ?([A-Z][A-Z_]+)=", text))
    assert {name.upper() for name in Settings.model_fields} <= names


def env_file_with(*lines: str) -> tuple[str, int]:
    """.env.example copied and filled in, with `lines` added at its end; the first one's line number."""
    text = filled_in((REPO / ".env.example").read_text())
    return text + "".join(f"{line}\n" for line in lines), text.count("\n") + 1


@pytest.mark.parametrize(("line", "says"), [
    ("TOKEN_ENCRYPTON_KEY=x", "TOKEN_ENCRYPTON_KEY ({where}): not a setting genrebot reads; "
                              "did you mean TOKEN_ENCRYPTION_KEY?"),
    ("DATA_DIRR=/var/lib/genrebot", "DATA_DIRR ({where}): not a setting genrebot reads; did you mean DATA_DIR?"),
    ("TOKEN_ENCRYPTION_KEY='k2Vh", "TOKEN_ENCRYPTION_KEY ({where}): cannot be read (an unclosed quote?)"),
    ("DATA_DIR=“/var/lib/genrebot”", "DATA_DIR ({where}): the value is in typographic quotes; "
                                     "use plain ' or \" or none"),
], ids=["misspelt key setting", "misspelt folder", "unclosed quote", "typographic quotes"])
def test_a_storage_setting_env_would_lose_stops_db_migrate_before_anything_is_created(
        user_env: dict[str, str], tmp_path: Path, line: str, says: str) -> None:
    """A storage setting misspelt, half-quoted or in a word processor's quotes in .env: `db migrate`
    exits 2 with one line naming the line and the setting, never the value, and makes no database or
    key file (they would have gone to the default folder, with a key the operator never wrote down)."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    text, number = env_file_with(line)
    (checkout / ".env").write_text(text)
    result = genrebot("db", "migrate", env=user_env, cwd=checkout)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == "genrebot db: invalid configuration: " + says.format(where=f"line {number} of .env")
    assert not (tmp_path / ".local").exists()


def test_a_misspelt_name_in_env_stops_run_and_other_names_are_left_alone(
        user_env: dict[str, str], tmp_path: Path) -> None:
    """WEB_PROT=9000 would leave the link pages on 8888, a half-quoted token would leave none: `run`
    names both lines; names that are no genrebot setting's near miss (TZ, HTTPS_PROXY, for the
    service manager) pass, half-quoted or not."""
    text, _ = env_file_with("TZ=Europe/Paris", "HTTPS_PROXY='http://proxy:3128")
    (tmp_path / ".env").write_text(text)
    assert genrebot("run", "--list-commands", env=user_env, cwd=tmp_path).returncode == 0
    text, number = env_file_with("WEB_PROT=9000", "DISCORD_TOKEN=\"MTIz.secret-part")
    (tmp_path / ".env").write_text(text)
    result = genrebot("run", "--list-commands", env=user_env, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"genrebot run: invalid configuration: WEB_PROT (line {number} of .env): not a setting genrebot reads; "
        f"did you mean WEB_PORT?; DISCORD_TOKEN (line {number + 1} of .env): cannot be read (an unclosed quote?)")


@pytest.mark.parametrize(("last", "says"), [
    ("TZ='Europe/Paris'", "cannot be read (an unclosed quote?), which hides WEB_PORT on the lines after it"),
    ("NOTE=see the wiki'", "its quoted value runs on over the lines after it, which hides WEB_PORT"),
], ids=["unreadable", "read as one value"])
def test_an_unclosed_quote_that_swallows_the_settings_after_it_stops_run(
        user_env: dict[str, str], tmp_path: Path, last: str, says: str) -> None:
    """HTTPS_PROXY (no setting of genrebot's) with its quote unclosed, and a quote further down:
    python-dotenv reads everything up to that quote as one statement, and either cannot parse it and
    skips it whole, or takes it all as HTTPS_PROXY's value; either way WEB_PORT on a line between
    them would silently be 8888 again. `run` names the line and the settings it hides, never a value."""
    text, number = env_file_with("HTTPS_PROXY='http://proxy:3128", "WEB_PORT=9000", last)
    (tmp_path / ".env").write_text(text)
    result = genrebot("run", "--list-commands", env=user_env, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert result.stderr.strip() == (
        f"genrebot run: invalid configuration: HTTPS_PROXY (line {number} of .env): {says}")
