"""`genrebot run` as an operator runs it: `run --list-commands`, start-up failures in one line, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from sandbox.server import SandboxServer
from sandbox.state import SandboxState
from storage.migrations import SCHEMA_VERSION
from tests.discord_standin import DiscordStandIn
from tests.training.layouts import exportify

REPO = Path(__file__).resolve().parents[2]


def test_list_commands_prints_the_tree_without_token_or_network(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`run --list-commands` prints every slash command and its options, with no credentials set."""
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run", "--list-commands"], env=clean_env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tree = {c["name"]: c for c in json.loads(result.stdout)}
    assert set(tree) == {"link", "unlink", "sort", "genres", "stats", "status", "schedule", "leaderboard", "privacy"}
    assert {o["name"] for o in tree["sort"]["options"]} == {
        "source", "genres", "level", "min_confidence", "min_size", "multi", "dry_run"}
    assert {o["name"] for o in tree["schedule"]["options"]} == {"set", "remove", "off", "status"}
    assert all(c["description"] for c in tree.values())


def run_env(clean_env: dict[str, str], tmp_path: Path, **variables: str) -> dict[str, str]:
    """What an operator's .env holds for `genrebot run`: placeholders for what is not reached."""
    return {**clean_env, "DISCORD_TOKEN": "placeholder-token", "SPOTIFY_CLIENT_ID": "placeholder-id",
            "SPOTIFY_CLIENT_SECRET": "placeholder-secret", "DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(REPO), **variables}


def test_run_when_discord_cannot_be_reached_says_so_in_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """No Discord at the configured address: a last line saying what failed, exit 1, no traceback."""
    env = run_env(clean_env, tmp_path, DISCORD_API_BASE="http://127.0.0.1:1/api/v10")
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("genrebot run: cannot reach Discord at http://127.0.0.1:1/api/v10")


def test_run_on_a_database_path_that_is_not_sqlite_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """DATABASE_PATH naming a CSV: one line naming the file, exit 2, the file unchanged."""
    export = exportify(tmp_path, False)
    before = export.read_bytes()
    env = run_env(clean_env, tmp_path, DATABASE_PATH=str(export))
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"genrebot run: {export} is not a SQLite database: point DATABASE_PATH (or db --database) at the database file")
    assert export.read_bytes() == before and not export.with_name(export.name + ".key").exists()


def test_run_on_a_database_from_a_newer_genrebot_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Code rolled back after an upgrade migrated the database: one line saying to upgrade, exit 2, nothing changed."""
    (tmp_path / "data").mkdir(mode=0o700)
    database = tmp_path / "data" / "genrebot.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    env = run_env(clean_env, tmp_path, DATABASE_PATH=str(database))
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"genrebot run: database schema version {SCHEMA_VERSION + 1} is newer than this genrebot "
        f"({SCHEMA_VERSION}); upgrade genrebot")
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_list_commands_into_a_closed_pipe_ends_quietly(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot run --list-commands | head -1` once head has gone: exit 141 (SIGPIPE's), nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before genrebot writes, as when `head` has its line
    try:
        result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run", "--list-commands"],
                                env={**clean_env, "PYTHONPATH": str(REPO)}, cwd=tmp_path, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=180)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")


async def stopped_once_connected(clean_env: dict[str, str], tmp_path: Path, callback_port: int,
                                  stop: signal.Signals, **variables: str) -> tuple[int, str]:
    """`genrebot run` against the Discord stand-in, sent `stop` once its gateway session is up (its
    READY is logged): the exit status and everything it wrote on stderr. Spotify is the closed port
    of clean_env unless `variables` say otherwise."""
    discord_service = DiscordStandIn()
    await discord_service.start()
    env = run_env(clean_env, tmp_path, DISCORD_TOKEN=discord_service.token, DISCORD_API_BASE=discord_service.api_base,
                  DISCORD_GATEWAY_URL=discord_service.gateway_url, WEB_PORT=str(callback_port),
                  PYTHONFAULTHANDLER="1", **variables)  # a run that hangs dumps every thread's stack on SIGABRT
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "genrebot_cli", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        # Ctrl-C as a terminal delivers it, whoever started pytest: a test run launched in the
        # background by a non-interactive shell (or under nohup) inherits SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any("has connected to Gateway" in line for line in lines):
            line = (await asyncio.wait_for(process.stderr.readline(), 240)).decode()
            assert line, "genrebot run ended before connecting:\n" + "".join(lines)
            lines.append(line)
    finally:
        if process.returncode is None:
            process.send_signal(stop)
        try:
            _, rest = await asyncio.wait_for(process.communicate(), 120)
        except TimeoutError:  # never leave a bot running behind a failed test; say where it hung
            process.send_signal(signal.SIGABRT)
            try:
                _, dump = await asyncio.wait_for(process.communicate(), 30)
            except TimeoutError:
                process.kill()
                dump = b"(no stack dump within 30 s)"
            await process.wait()
            raise AssertionError(f"genrebot run did not stop on {stop.name}; where it was:\n"
                                 + dump.decode()[-6000:]) from None
        finally:
            await discord_service.stop()
    assert process.returncode is not None
    return process.returncode, "".join(lines) + rest.decode()


async def sandbox_with_app(client_id: str, client_secret: str) -> SandboxServer:
    """The Spotify sandbox in this event loop, knowing one app; `stop()` it when done."""
    sandbox = SandboxServer(SandboxState(apps={client_id: client_secret}))
    await sandbox.start()
    return sandbox


SPOTIFY_NOT_CHECKED = "could not check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET with Spotify"


async def test_run_logs_in_without_voice_warnings_and_stops_on_ctrl_c(
        clean_env: dict[str, str], tmp_path: Path, callback_port: int) -> None:
    """`genrebot run` against Discord and a Spotify that takes the app's credentials: connects, logs no
    voice warnings and no Spotify warning, Ctrl-C ends it in one line."""
    sandbox = await sandbox_with_app("placeholder-id", "placeholder-secret")
    try:
        status, stderr = await stopped_once_connected(
            clean_env, tmp_path, callback_port, signal.SIGINT,
            SPOTIFY_ACCOUNTS_BASE=sandbox.state.base_url, SPOTIFY_API_BASE=f"{sandbox.state.base_url}/v1")
    finally:
        await sandbox.stop()
    assert SPOTIFY_NOT_CHECKED not in stderr
    assert "logging in using static token" in stderr  # the start-up log is there...
    assert not [line for line in stderr.splitlines() if "voice will NOT be supported" in line]  # PyNaCl, davey
    assert "Traceback" not in stderr
    assert status == 130 and stderr.strip().splitlines()[-1] == "genrebot run: interrupted"


async def test_run_with_a_wrong_spotify_secret_stops_before_anything_opens_in_one_line(
        clean_env: dict[str, str], tmp_path: Path) -> None:
    """SPOTIFY_CLIENT_SECRET not the app's (Spotify answers the client-credentials grant 400 invalid_client):
    exit 2 with one line naming the setting, before the database or Discord; the secret is never shown.
    Before, the bot started and every member's /link failed at its end with a generic message."""
    sandbox = await sandbox_with_app("the-app-id", "the-app-secret")
    try:
        env = run_env(clean_env, tmp_path, SPOTIFY_CLIENT_ID="the-app-id", SPOTIFY_CLIENT_SECRET="a-stale-secret",
                      SPOTIFY_ACCOUNTS_BASE=sandbox.state.base_url, SPOTIFY_API_BASE=f"{sandbox.state.base_url}/v1",
                      DISCORD_API_BASE="http://127.0.0.1:9/api/v10")  # nothing listens: never reaches Discord
        result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "genrebot_cli", "run"], env=env,
                                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    finally:
        await sandbox.stop()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.strip().splitlines() == [
        "genrebot run: Spotify refused SPOTIFY_CLIENT_SECRET (invalid_client: Invalid client secret): copy the "
        "Client ID and Client Secret from the app's page in the Spotify Developer Dashboard"]
    assert not (tmp_path / "data").exists()


async def test_run_with_a_model_directory_missing_cut_short_or_of_another_version_stops_in_one_line(
        clean_env: dict[str, str], tmp_path: Path) -> None:
    """MODEL_DIR naming no directory, a model whose weights a copy cut short, or one an older genrebot
    wrote: exit 2 with one line naming MODEL_DIR and what is wrong with it, before Discord. Before, the
    operator got ModelLoadError's traceback, telling them to "give --model a model directory"."""
    from cryptography.fernet import Fernet

    shipped = REPO / "classifier" / "default_model"
    cut_short, older = tmp_path / "cut-short", tmp_path / "older"
    for directory in (cut_short, older):
        directory.mkdir()
        for file in shipped.iterdir():
            (directory / file.name).write_bytes(file.read_bytes())
    weights = (cut_short / "model.safetensors").read_bytes()
    (cut_short / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    model_json = older / "model.json"
    model_json.write_text(json.dumps({**json.loads(model_json.read_text()), "format": "genrebot-model/1"}))
    key = Fernet.generate_key().decode()
    sandbox = await sandbox_with_app("the-app-id", "the-app-secret")  # the app passes: no warning beside the line
    try:
        for model_dir, problem in ((tmp_path / "nowhere", "is not a directory"),
                                   (cut_short, "model.safetensors is damaged or incomplete"),
                                   (older, "made by an older genrebot: retrain it")):
            env = run_env(clean_env, tmp_path, MODEL_DIR=str(model_dir), TOKEN_ENCRYPTION_KEY=key, SPOTIFY_CLIENT_ID="the-app-id",
                          SPOTIFY_CLIENT_SECRET="the-app-secret", SPOTIFY_ACCOUNTS_BASE=sandbox.state.base_url,
                          DISCORD_API_BASE="http://127.0.0.1:9/api/v10")  # nothing listens: never reaches Discord
            result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "genrebot_cli", "run"], env=env,
                                             cwd=tmp_path, capture_output=True, text=True, timeout=180)
            lines = result.stderr.strip().splitlines()
            assert result.returncode == 2 and len(lines) == 1, result.stderr[-3000:]
            assert lines[0].startswith("genrebot run: MODEL_DIR: ") and str(model_dir) in lines[0], lines[0]
            assert problem in lines[0], lines[0]
            assert "--model" not in lines[0]
    finally:
        await sandbox.stop()


async def test_run_with_spotify_unreachable_warns_and_starts(
        clean_env: dict[str, str], tmp_path: Path, callback_port: int) -> None:
    """Nothing answers at SPOTIFY_ACCOUNTS_BASE (Spotify down, or the network): one warning saying the
    credentials could not be checked, and the bot connects to Discord all the same."""
    status, stderr = await stopped_once_connected(clean_env, tmp_path, callback_port, signal.SIGINT)
    warnings = [line for line in stderr.splitlines() if SPOTIFY_NOT_CHECKED in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0] and "http://127.0.0.1:1/api/token" in warnings[0]
    assert "has connected to Gateway" in stderr and status == 130, stderr[-3000:]


async def test_run_stopped_by_sigterm_closes_the_bot_and_its_database_first(
        clean_env: dict[str, str], tmp_path: Path, callback_port: int) -> None:
    """SIGTERM (systemctl stop, docker stop) closes the bot as Ctrl-C does, then ends the process by
    SIGTERM as before: the database is closed (SQLite folded its write-ahead log back in and removed
    it, which a process killed where it stood leaves behind), and no traceback."""
    status, stderr = await stopped_once_connected(clean_env, tmp_path, callback_port, signal.SIGTERM)
    assert status == -signal.SIGTERM and "Traceback" not in stderr, stderr[-3000:]
    database = tmp_path / "data" / "genrebot.sqlite3"
    assert database.is_file() and not Path(f"{database}-wal").exists()


async def test_run_on_a_database_another_process_uses_is_refused_in_one_line(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    """A second `genrebot run` on the same database exits 2 with one line naming the running one."""
    from cryptography.fernet import Fernet

    from storage import Database

    key = Fernet.generate_key().decode()
    database = tmp_path / "data" / "genrebot.sqlite3"
    sandbox = await sandbox_with_app("id", "secret")  # the app's credentials pass: no warning beside the line
    env = {**clean_env, "DATABASE_PATH": str(database), "TOKEN_ENCRYPTION_KEY": key, "DISCORD_TOKEN": "t",
           "SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret", "SPOTIFY_ACCOUNTS_BASE": sandbox.state.base_url,
           "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}  # nothing listens: never reaches Discord
    running = await Database.open(database, encryption_keys=[key])
    try:
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "genrebot_cli", "run"], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )
    finally:
        await running.close()
        await sandbox.stop()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"pid {os.getpid()}" in result.stderr and len(result.stderr.strip().splitlines()) == 1


async def test_run_on_a_web_port_another_program_holds_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """WEB_PORT already taken (another genrebot, another program): exit 2, one line naming the port
    and WEB_PORT, no traceback."""
    discord_service = DiscordStandIn()
    await discord_service.start()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = run_env(clean_env, tmp_path, DISCORD_TOKEN=discord_service.token,
                      DISCORD_API_BASE=discord_service.api_base, DISCORD_GATEWAY_URL=discord_service.gateway_url,
                      WEB_PORT=str(port))
        result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "genrebot_cli", "run"], env=env,
                                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    finally:
        holder.close()
        await discord_service.stop()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"genrebot run: cannot serve the link pages on 127.0.0.1:{port}: the port is in use")
    assert "WEB_PORT" in last
