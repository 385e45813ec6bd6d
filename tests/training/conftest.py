"""Shared by the training CLI tests: one small model, trained once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.layouts import genrebot, kaggle_tracks


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A small model trained once from a synthetic Kaggle-layout CSV on the shipped taxonomy
    (its labels rock, latin and rap are genres there): (data, model dir, stderr)."""
    tmp = tmp_path_factory.mktemp("trained")
    source = kaggle_tracks(tmp)
    out = tmp / "model"
    result = genrebot("train", "--data", str(source), "--out", str(out), "--epochs", "12", "--seed", "5",
                      "--threads", "1")
    assert result.returncode == 0, result.stderr
    return source, out, result.stderr
