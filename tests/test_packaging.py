"""pyproject.toml and the Makefile as an operator meets them: what a build says, what each install brings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEV_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "ruff", "mypy", "psutil", "jsonschema", "pyyaml"}


@pytest.fixture(scope="module")
def built_metadata(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], str]:
    """The package's METADATA as setuptools builds it from a copy of the checkout, and what it printed."""
    copy = tmp_path_factory.mktemp("checkout") / "genrebot"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "*.egg-info", "__pycache__", ".*_cache", "build", "dist", "tests"))
    out = copy.parent / "metadata"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         f"from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel({str(out)!r}))"],
        cwd=copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    message = Parser().parsestr((out / result.stdout.strip().splitlines()[-1] / "METADATA").read_text())
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return fields, result.stdout + result.stderr


def requirement_name(spec: str) -> str:
    return spec.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].strip().lower()


def test_the_license_is_an_spdx_expression_and_the_build_does_not_warn(
        built_metadata: tuple[dict[str, list[str]], str]) -> None:
    """Building the package says nothing about `project.license`; the metadata carries `MIT` as SPDX."""
    fields, printed = built_metadata
    assert fields["License-Expression"] == ["MIT"]
    assert "project.license" not in printed and "license" not in printed.lower()


def test_python_versions_newer_than_3_11_are_accepted(built_metadata: tuple[dict[str, list[str]], str]) -> None:
    """requires-python has a floor (3.11) and no ceiling: 3.12 and 3.13 install."""
    fields, _ = built_metadata
    assert fields["Requires-Python"] == [">=3.11"]


def test_development_tools_come_only_with_the_dev_extra(built_metadata: tuple[dict[str, list[str]], str]) -> None:
    """The runtime requirements hold no test, lint, type-check or benchmark tool; `[dev]` holds them all."""
    fields, _ = built_metadata
    runtime = {requirement_name(r) for r in fields["Requires-Dist"] if "extra ==" not in r}
    dev = {requirement_name(r) for r in fields["Requires-Dist"] if 'extra == "dev"' in r}
    assert {"discord.py", "spotipy", "torch", "tqdm"} <= runtime
    assert not runtime & DEV_TOOLS
    assert DEV_TOOLS <= dev


def make_dry_run(*targets: str, **variables: str) -> str:
    """The commands `make` would run from a fresh checkout (no .venv), without running them."""
    result = subprocess.run(["make", "-n", "-B", "-C", str(REPO), *targets, *(f"{k}={v}" for k, v in variables.items())],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_install_installs_the_runtime_only() -> None:
    """`make install` installs genrebot without the dev extra."""
    commands = make_dry_run("install")
    assert "-e ." in commands and "[dev]" not in commands


def test_make_test_installs_runtime_and_development_tools_then_runs_lint_types_and_tests() -> None:
    """The README's test command installs both, then runs ruff, mypy and pytest."""
    commands = make_dry_run("test")
    assert "-e ." in commands and "-e '.[dev]'" in commands
    assert "ruff check" in commands and "mypy" in commands and "pytest" in commands


def test_torch_index_chooses_where_torch_comes_from() -> None:
    """`make install TORCH_INDEX=URL` installs torch (as pinned) from that index; unset, from the usual ones."""
    cpu_index = "https://download.pytorch.org/whl/cpu"
    chosen = [line for line in make_dry_run("install", TORCH_INDEX=cpu_index).splitlines() if line.endswith(" torch")]
    assert chosen and all(f"-c constraints.txt --index-url {cpu_index} torch" in line for line in chosen)
    default = [line for line in make_dry_run("install").splitlines() if line.endswith(" torch")]
    assert default and all("--index-url" not in line for line in default)
