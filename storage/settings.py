"""The configuration storage needs (where the database is, which keys encrypt tokens).

Storage declares the settings it consumes; the bot's `Settings` extends this class, so each
variable (DATA_DIR, DATABASE_PATH, TOKEN_ENCRYPTION_KEY) is defined once and the running bot
still builds one settings object. `genrebot db` builds just this part, without importing the bot.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from dotenv.parser import parse_stream
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

    Lines of the env file that would leave a setting silently at its default (`env_file_problems`:
    WEB_PROT=..., an unclosed quote; a generated key file in place of the key the operator wrote
    down) are refused first, before anything reads the file."""
    problems = env_file_problems(kind, overrides.get("_env_file", kind.model_config.get("env_file")))
    if not problems:  # (the env file's reader would add its own warning about a line it cannot read)
        try:
            return kind(**overrides)
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]).upper() if err["loc"] else "?"
                problems.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
    raise SettingsError("invalid configuration: " + "; ".join(problems))


def env_file_problems(kind: type[BaseSettings], env_file: Any) -> list[str]:
    """One problem per line of `env_file` that would leave a setting of `kind` silently unset or
    wrong: a name close to a setting's but not one (WEB_PROT), a line the file's parser cannot read
    that is a setting's or hides some, and a quoted value that runs on over settings' lines (an
    unclosed quote: the parser skips everything up to the next quote in the file, or reads it all as
    one value, the lines between included), a value in typographic quotes (“…”, pasted
    from a document). Never the value itself, which may be a secret. Names of no setting (TZ,
    HTTPS_PROXY, what a service manager reads from the same file) are left alone."""
    if not isinstance(env_file, (str, Path)) or not Path(env_file).is_file():
        return []
    known = sorted(name.upper() for name in kind.model_fields)
    problems = []
    with open(env_file, encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            where = f"line {binding.original.line} of {env_file}"
            # An unclosed quote runs on to the next quote in the file, over the lines between: the
            # parser skips all of it (an error), or takes it all as one value; their settings are lost.
            first, *after = _ASSIGNED_NAME.findall(binding.original.string) or [None]
            hidden = ", ".join(name for name in after if _setting_meant(name, known))
            if binding.error:
                if (first and _setting_meant(first, known)) or hidden:
                    problem = f"{first or 'a statement'} ({where}): cannot be read (an unclosed quote?)"
                    problems.append(problem + (f", which hides {hidden} on the lines after it" if hidden else ""))
                continue
            if hidden:
                problems.append(f"{binding.key} ({where}): its quoted value runs on over the lines after it, "
                                f"which hides {hidden}")
                continue
            name, value = (binding.key or "").upper(), binding.value or ""
            if not value:
                continue
            if name not in known:
                meant = _setting_meant(name, known)
                if meant:
                    problems.append(f"{binding.key} ({where}): not a setting genrebot reads; did you mean {meant}?")
            elif value[0] in TYPOGRAPHIC_QUOTES or value[-1] in TYPOGRAPHIC_QUOTES:
                problems.append(f"{name} ({where}): the value is in typographic quotes; use plain ' or \" or none")
    return problems


def _setting_meant(name: str, known: list[str]) -> str | None:
    """The setting `name` is or is a slip away from, if any."""
    if name.upper() in known:
        return name.upper()
    close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=MISSPELT_CUTOFF)
    return close[0] if close else None


_ASSIGNED_NAME = re.compile(r"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=")  # NAME= at a line's start
TYPOGRAPHIC_QUOTES = "“”„‘’‚«»"
MISSPELT_CUTOFF = 0.75  # WEB_PROT, LOGLEVEL, SPOTIPY_CLIENT_ID are caught; TZ, HTTPS_PROXY are not
