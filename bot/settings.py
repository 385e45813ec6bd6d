"""genrebot's one typed settings object, read from the environment and `.env` once at start-up.

Nothing else reads `os.environ`: the command line builds `Settings` and passes it (or the parts
a component needs) down. `require()` turns missing or malformed values into one clear line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from storage.settings import SettingsError, StorageSettings, build_settings, default_data_dir

__all__ = ["Settings", "SettingsError", "default_data_dir", "load_settings"]

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8888/callback"
SPOTIFY_API_BASE = "https://api.spotify.com/v1"
SPOTIFY_ACCOUNTS_BASE = "https://accounts.spotify.com"


class Settings(StorageSettings):
    """Everything the bot reads; DATA_DIR, DATABASE_PATH and TOKEN_ENCRYPTION_KEY come from storage's part."""

    # Discord
    discord_token: SecretStr | None = None
    discord_dev_guild_id: int | None = None
    discord_api_base: str | None = None  # e.g. a proxy; None keeps discord.py's default
    discord_gateway_url: str | None = None

    # Spotify
    spotify_client_id: str | None = None
    spotify_client_secret: SecretStr | None = None
    spotify_redirect_uri: str = DEFAULT_REDIRECT_URI
    spotify_api_base: str = SPOTIFY_API_BASE
    spotify_accounts_base: str = SPOTIFY_ACCOUNTS_BASE

    # OAuth callback web app (runs inside the bot's event loop)
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8888, ge=1, le=65535)

    # Classifier and sorting
    model_dir: Path | None = None  # None = the model shipped in classifier/default_model
    torch_threads: int = Field(default=1, ge=1, le=64)
    classify_concurrency: int = Field(default=2, ge=1, le=64)
    sort_concurrency: int = Field(default=4, ge=1, le=256)
    spotify_read_concurrency: int = Field(default=8, ge=1, le=64)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("spotify_redirect_uri")
    @classmethod
    def _redirect_uri_is_allowed(cls, value: str) -> str:
        if value.startswith("https://") or value.startswith("http://127.0.0.1") or value.startswith(
            "http://[::1]"
        ):
            return value
        raise ValueError(
            "must be https://… or http://127.0.0.1:PORT/… (Spotify no longer accepts localhost)"
        )

    def require(self, *names: str) -> None:
        """Raise SettingsError naming every listed setting that is unset."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "")]
        if missing:
            raise SettingsError(f"missing required environment variable(s): {', '.join(missing)}")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line naming each bad variable."""
    return build_settings(Settings, **overrides)
