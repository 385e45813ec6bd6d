"""Storage's own settings: where the database is and which keys encrypt tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.settings import SettingsError, StorageSettings, build_settings


def test_the_database_lives_in_the_data_dir_unless_a_path_is_given(tmp_path: Path) -> None:
    """DATA_DIR/genrebot.sqlite3 by default; DATABASE_PATH wins when set."""
    in_dir = StorageSettings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    explicit = StorageSettings(_env_file=None, data_dir=tmp_path, database_path=tmp_path / "x.db")  # type: ignore[call-arg]
    assert (in_dir.resolved_database_path, explicit.resolved_database_path) == (
        tmp_path / "genrebot.sqlite3", tmp_path / "x.db"
    )


def test_encryption_keys_are_read_comma_separated_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """TOKEN_ENCRYPTION_KEY 'new, old' gives both keys, the first one encrypting."""
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", "new-key, old-key,")
    settings = build_settings(StorageSettings, _env_file=None)
    assert settings.encryption_keys == ["new-key", "old-key"]


def test_a_malformed_setting_is_named_in_one_line() -> None:
    """A value of the wrong type raises SettingsError naming the variable, in one line."""
    with pytest.raises(SettingsError) as caught:
        build_settings(StorageSettings, _env_file=None, data_dir=["not", "a", "path"])
    assert "DATA_DIR" in str(caught.value) and "\n" not in str(caught.value)
