"""The `genrebot` command line: help, subcommands and configuration errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

GENREBOT = [sys.executable, "-m", "genrebot_cli"]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GENREBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_help_lists_each_subcommand_with_a_description(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot --help` names every subcommand that exists, each with a one-line description."""
    from genrebot_cli import build_parser

    result = run_cli(["--help"], clean_env, tmp_path)
    assert result.returncode == 0
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(subparsers, argparse._SubParsersAction)
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


def every_command() -> list[list[str]]:
    """Each subcommand, and each of `db`'s actions, as a user types it."""
    from genrebot_cli import build_parser

    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(subparsers, argparse._SubParsersAction)
    commands = []
    for name, parser in subparsers.choices.items():
        commands.append([name])
        for action in parser._actions:
            if action.dest == "db_command":
                commands.extend([name, child] for child in action.choices)
    return commands


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_explains_itself_with_an_example_and_its_defaults(
        command: list[str], clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot X --help`: a description, an example (top-level commands), and every default shown."""
    from genrebot_cli import build_parser

    result = run_cli([*command, "--help"], clean_env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: genrebot {' '.join(command)}")
    if len(command) == 1:
        assert "\nexample:\n  genrebot " + command[0] in result.stdout
    parser = build_parser()
    for word in command:  # walk down to this command's own parser
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) and action.help:
            shown = " ".join(result.stdout.split())  # help text wraps
            assert "default" in (action.help or "") or f"(default: {action.default})" in shown, action.dest


@pytest.mark.parametrize("command, flag, default", [
    (["sort"], "--level", "family"), (["sort"], "--min-confidence", "0.0"), (["train"], "--seed", "1337"),
    (["train"], "--output", "genrebot-model"), (["sandbox"], "--client-id", "sandbox-client"),
])
def test_the_defaults_the_issue_names_are_in_the_help(command: list[str], flag: str, default: str,
                                                       clean_env: dict[str, str], tmp_path: Path) -> None:
    """--level, --min-confidence, --seed, --output and the sandbox's client id say their defaults."""
    result = run_cli([*command, "--help"], clean_env, tmp_path)
    options = " ".join(result.stdout[result.stdout.index("\noptions:"):].split())  # help text wraps
    after_flag = options[options.index(flag):]
    assert f"(default: {default})" in after_flag[:300]


def test_version_is_printed(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot --version` prints the installed version."""
    from importlib.metadata import version

    result = run_cli(["--version"], clean_env, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"genrebot {version('genrebot')}"


@pytest.mark.parametrize("command", [["sort"], ["train"], ["evaluate"], ["predict"]], ids=" ".join)
def test_input_and_output_flags_are_spelled_the_same_everywhere(
        command: list[str], clean_env: dict[str, str], tmp_path: Path) -> None:
    """Every command that reads a file takes --input, and every one that writes takes --output."""
    result = run_cli([*command, "--help"], clean_env, tmp_path)
    assert "--input" in result.stdout and "--output" in result.stdout


@pytest.mark.parametrize("old, new", [(["sort", "--csv", "X", "--out", "Y"], ["sort", "--input", "X", "--output", "Y"]),
                                      (["train", "--data", "X", "--out", "Y"], ["train", "--input", "X", "--output", "Y"]),
                                      (["evaluate", "--data", "X"], ["evaluate", "--input", "X"])])
def test_old_flag_spellings_still_work(old: list[str], new: list[str]) -> None:
    """--csv, --data and --out parse to the same options as --input and --output."""
    from genrebot_cli import build_parser

    assert vars(build_parser().parse_args(old)) == vars(build_parser().parse_args(new))


def test_argparse_refusals_are_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """A missing required flag is one line naming it and where to find help, exit 2."""
    result = run_cli(["sort"], clean_env, tmp_path)
    assert result.returncode == 2
    assert result.stderr == "genrebot sort: the following arguments are required: --input/--csv, " \
                            "--output/--out (see `genrebot sort --help`)\n"


BLAS_THREADS_AFTER_A_COMMAND = (
    "import sys, genrebot_cli, threadpoolctl\n"
    "genrebot_cli.main(['genres', '--json'])\n"
    "print([i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'], file=sys.stderr)\n"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "[1]"), ("2", "[2]")])
def test_numpys_blas_runs_one_thread_unless_the_user_says_otherwise(
    clean_env: dict[str, str], tmp_path: Path, given: str | None, expected: str
) -> None:
    """Every command keeps numpy's BLAS to one thread (its idle threads spin, taking CPU from the
    classifier and the event loop); an OPENBLAS_NUM_THREADS the user set is kept."""
    env = {k: v for k, v in clean_env.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    result = subprocess.run([sys.executable, "-c", BLAS_THREADS_AFTER_A_COMMAND], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == expected


def test_help_loads_neither_torch_nor_pandas(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Building the parser (`genrebot --help`, any refusal of a flag) imports no torch or pandas: the
    handlers import what they need, so help is quick and a typo is refused at once."""
    probe = ("import sys, genrebot_cli; genrebot_cli.build_parser(); "
             "print(sorted(m for m in ('torch', 'pandas', 'discord') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], env=clean_env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_ctrl_c_while_genrebot_is_still_loading_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Ctrl-C while `genrebot run` is still loading torch (its library mapped, its import under way):
    one line, exit 130, no traceback."""
    import signal
    import time

    env = {**clean_env, "DISCORD_TOKEN": "t", "SPOTIFY_CLIENT_ID": "i", "SPOTIFY_CLIENT_SECRET": "s",
           "DATA_DIR": str(tmp_path / "data"), "DISCORD_API_BASE": "http://127.0.0.1:1/api/v10"}
    child = subprocess.Popen([*GENREBOT, "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    maps = Path(f"/proc/{child.pid}/maps")
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline and "libtorch" not in maps.read_text():
        time.sleep(0.005)  # until torch's shared library is loaded: its Python import follows for seconds
    child.send_signal(signal.SIGINT)
    stderr = child.communicate(timeout=120)[1]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert child.returncode == 130 and stderr.strip().splitlines()[-1] == "genrebot run: interrupted"
