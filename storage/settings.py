"""The configuration storage needs (where the database is, which keys encrypt tokens).

Storage declares the settings it consumes; the bot's `Settings` extends this class, so each
variable (DATA_DIR, DATABASE_PATH, TOKEN_ENCRYPTION_KEY) is defined once and the running bot
still builds one settings object. `genrebot db` builds just this part, without importing the bot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_FILE_NAME = "genrebot.sqlite3"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("genrebot", appauthor=False))


class SettingsError(Exception):
    """Configuration is missing or malformed; the message names every offending variable."""


class StorageSettings(BaseSettings):
    # env_ignore_empty: `DATA_DIR=` (as .env.example has it) means "unset", not "the current directory".
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    database_path: Path | None = None
    token_encryption_key: SecretStr | None = None  # comma-separated Fernet keys; first encrypts

    @field_validator("data_dir")
    @classmethod
    def _data_dir_is_a_directory(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a directory")
        return value

    @field_validator("database_path")
    @classmethod
    def _database_path_is_a_file(cls, value: Path | None) -> Path | None:
        if value is not None and (value.is_dir() or not value.name):
            raise ValueError(f"{value} is a directory; give the SQLite file's path (or leave it unset)")
        return value

    @property
    def resolved_database_path(self) -> Path:
        return self.database_path or self.data_dir / DATABASE_FILE_NAME

    @property
    def encryption_keys(self) -> list[str]:
        if self.token_encryption_key is None:
            return []
        return [k.strip() for k in self.token_encryption_key.get_secret_value().split(",") if k.strip()]


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def build_settings(kind: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build `kind` from the environment, turning pydantic's report into one line per variable."""
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            problems.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
