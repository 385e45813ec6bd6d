"""The configuration storage needs (where the database is, which keys encrypt tokens).

Storage declares the settings it consumes; the bot's `Settings` extends this class, so each
variable (DATA_DIR, DATABASE_PATH, TOKEN_ENCRYPTION_KEY) is defined once and the running bot
still builds one settings object. `genrebot db` builds just this part, without importing the bot.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from dotenv import dotenv_values
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
    """Build `kind` from the environment, turning pydantic's report into one line per variable.

    A line of the env file whose name is one letter or word off a setting's (WEB_PROT,
    TOKEN_ENCRYPTON_KEY) is refused too: it would be ignored, and the setting silently left at its
    default (a generated key file in place of the key the operator wrote down)."""
    problems = misspelt_settings(kind, overrides.get("_env_file", kind.model_config.get("env_file")))
    try:
        settings = kind(**overrides)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            problems.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
    return settings


def misspelt_settings(kind: type[BaseSettings], env_file: Any) -> list[str]:
    """One problem per name set in `env_file` that is no setting of `kind` but close to one. Other
    names (TZ, HTTPS_PROXY, what a service manager reads from the same file) are left alone."""
    if not isinstance(env_file, (str, Path)) or not Path(env_file).is_file():
        return []
    known = {name.upper() for name in kind.model_fields}
    problems = []
    for name, value in dotenv_values(env_file, encoding="utf-8").items():
        if not value or name.upper() in known:
            continue
        close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=MISSPELT_CUTOFF)
        if close:
            problems.append(f"{name} (in {env_file}): not a setting genrebot reads; did you mean {close[0]}?")
    return problems


MISSPELT_CUTOFF = 0.75  # WEB_PROT, LOGLEVEL, SPOTIPY_CLIENT_ID are caught; TZ, HTTPS_PROXY are not
