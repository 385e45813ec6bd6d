"""genrebot's one typed settings object, read from the environment and `.env` once at start-up.

Nothing else reads `os.environ`: the command line builds `Settings` and passes it (or the parts
a component needs) down. `require()` turns missing or malformed values into one clear line.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from storage.settings import SettingsError, StorageSettings, build_settings, default_data_dir

__all__ = ["Settings", "SettingsError", "default_data_dir", "load_settings"]

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8888/callback"
CALLBACK_PATH = "/callback"  # the web app's route for Spotify's answer (bot/web/app.py)
SPOTIFY_API_BASE = "https://api.spotify.com/v1"
SPOTIFY_ACCOUNTS_BASE = "https://accounts.spotify.com"


class Settings(StorageSettings):
    """Everything the bot reads; DATA_DIR, DATABASE_PATH and TOKEN_ENCRYPTION_KEY come from storage's part."""

    # Discord
    discord_token: SecretStr | None = None
    discord_dev_guild_id: int | None = None
    discord_api_base: str | None = None  # e.g. a proxy; None keeps discord.py's default
    discord_gateway_url: str | None = None
    # Discord OAuth2 (optional): with both set, /link first checks in the browser that it is the
    # member's Discord account (scope `identify`). Register the redirect URI beside
    # SPOTIFY_REDIRECT_URI: the same URL with /discord-callback in place of /callback.
    discord_client_id: str | None = None
    discord_client_secret: SecretStr | None = None

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
    # Spotify calls the whole app may start in any 30 s (Spotify's window; it publishes no number).
    spotify_request_budget: int = Field(default=180, ge=1, le=100_000)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("spotify_redirect_uri")
    @classmethod
    def _redirect_uri_is_allowed(cls, value: str) -> str:
        value = secure_url(value, "https", "http", "must be https://… or http://127.0.0.1:PORT/… "
                           "(a loopback IP; Spotify no longer accepts localhost)")
        # Spotify sends the member's browser here after consent; the web app answers only /callback.
        if not urlsplit(value).path.endswith(CALLBACK_PATH):
            raise ValueError(f"must end in {CALLBACK_PATH}, where genrebot's link pages answer Spotify "
                             f"(e.g. {DEFAULT_REDIRECT_URI}); got {value!r}")
        return value

    @field_validator("spotify_api_base", "spotify_accounts_base", "discord_api_base")
    @classmethod
    def _api_base_is_private(cls, value: str | None) -> str | None:
        # The client secret, tokens and the bot token travel to these: never in clear over a network.
        if value is None:
            return None
        return secure_url(value, "https", "http", "must be https://… (or http:// to a loopback IP, for a local stand-in)")

    @field_validator("discord_gateway_url")
    @classmethod
    def _gateway_is_private(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return secure_url(value, "wss", "ws", "must be wss://… (or ws:// to a loopback IP, for a local stand-in)")

    def secret_values(self) -> list[str]:
        """The secrets configured, for the log redactor to remove wherever they appear."""
        found = [self.discord_token, self.discord_client_secret, self.spotify_client_secret, self.token_encryption_key]
        values = [s.get_secret_value() for s in found if s is not None]
        # Split and stripped as `encryption_keys` reads TOKEN_ENCRYPTION_KEY ('new, old' is two keys).
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    @model_validator(mode="after")
    def _discord_oauth_is_whole(self) -> Settings:
        if bool(self.discord_client_id) != bool(self.discord_client_secret):
            raise ValueError("set both DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET, or neither")
        return self

    def redirect_port_mismatch(self) -> str | None:
        """A warning when SPOTIFY_REDIRECT_URI is a loopback address on another port than WEB_PORT:
        a member's browser would find nothing there, unless something (a container's port mapping,
        a local proxy) forwards that port to the web app, which is why this is not refused."""
        parts = urlsplit(self.spotify_redirect_uri)
        if not is_loopback_ip(parts.hostname or ""):
            return None
        port = parts.port or 80
        if port == self.web_port:
            return None
        return (f"SPOTIFY_REDIRECT_URI {self.spotify_redirect_uri} is on port {port}, but the link pages listen "
                f"on WEB_PORT {self.web_port}: unless something forwards port {port} to {self.web_port}, members' "
                "browsers will find nothing there; set the two to the same port")

    def require(self, *names: str) -> None:
        """Raise SettingsError naming every listed setting that is unset."""
        missing = [name.upper() for name in names if getattr(self, name) in (None, "")]
        if missing:
            raise SettingsError(f"missing required environment variable(s): {', '.join(missing)}")


def is_loopback_ip(host: str) -> bool:
    """127.0.0.0/8 or ::1, written as an IP literal (a name such as localhost can resolve anywhere)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(value: str, secure_scheme: str, loopback_scheme: str, rule: str) -> str:
    """`value` if it is `secure_scheme://host…`, or `loopback_scheme://` to a loopback IP; the host is
    parsed, never matched by prefix (http://127.0.0.1.evil.example and http://127.0.0.1@evil.example
    are not loopback). Raises ValueError(rule) otherwise."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"{rule}; {value!r} is not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{rule}; user info ('…@') is not allowed in {value!r}")
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{rule}; {value!r} has no host")
    if parts.scheme == secure_scheme or (parts.scheme == loopback_scheme and is_loopback_ip(host)):
        return value.strip()
    raise ValueError(f"{rule}; got {value!r}")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line naming each bad variable."""
    return build_settings(Settings, **overrides)
