"""Settings parse URLs and compare hosts: only https (wss), or plain http (ws) to a loopback IP."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.log_redaction import RedactSecrets
from bot.settings import Settings, SettingsError, load_settings
from tests.test_genrebot_cli import run_cli

LOOKALIKES = [
    "http://127.0.0.1.evil.example/callback",  # a name that starts like the loopback IP
    "http://127.0.0.1@evil.example/callback",  # user info: the host is evil.example
    "http://127.0.0.1:8888@evil.example/callback",
    "http://localhost:8888/callback",  # a name, not a loopback literal
    "http://10.0.0.5:8888/callback",  # a private but not loopback address
    "ftp://127.0.0.1/callback",
    "https:///callback",  # no host
    "http://127.0.0.1:eighty/callback",  # malformed port
]


@pytest.mark.parametrize("value", LOOKALIKES)
def test_a_redirect_uri_that_only_looks_like_loopback_is_refused(value: str) -> None:
    """SPOTIFY_REDIRECT_URI is https, or http to a loopback IP: the parsed host decides, not a prefix."""
    with pytest.raises(SettingsError, match="SPOTIFY_REDIRECT_URI"):
        load_settings(_env_file=None, spotify_redirect_uri=value)


@pytest.mark.parametrize(
    "value", ["https://genrebot.example/callback", "http://127.0.0.1:8888/callback", "http://127.8.9.10/callback",
              "http://[::1]:8888/callback", "https://example.org/genrebot/callback"],
)
def test_https_and_loopback_ip_redirect_uris_are_accepted(value: str) -> None:
    """https anywhere, http to 127.0.0.0/8 or [::1]."""
    assert load_settings(_env_file=None, spotify_redirect_uri=value).spotify_redirect_uri == value


@pytest.mark.parametrize("variable", ["spotify_api_base", "spotify_accounts_base", "discord_api_base"])
@pytest.mark.parametrize("value", ["http://api.spotify.com/v1", "http://127.0.0.1.evil.example/v1",
                                   "http://127.0.0.1@evil.example/v1"])
def test_an_api_base_in_clear_to_another_host_is_refused(variable: str, value: str) -> None:
    """Secrets travel to API bases: plain http only to a loopback IP (a local stand-in)."""
    with pytest.raises(SettingsError, match=variable.upper()):
        load_settings(_env_file=None, **{variable: value})


@pytest.mark.parametrize("variable", ["spotify_api_base", "spotify_accounts_base", "discord_api_base"])
def test_an_api_base_on_a_loopback_stand_in_is_accepted(variable: str) -> None:
    """http://127.0.0.1:PORT (the sandbox, the Discord stand-in) is fine."""
    assert getattr(load_settings(_env_file=None, **{variable: "http://127.0.0.1:9000/v1"}), variable)


@pytest.mark.parametrize("value", ["ws://gateway.evil.example", "ws://127.0.0.1@evil.example/gateway",
                                   "https://gateway.discord.gg"])
def test_a_gateway_url_in_clear_to_another_host_is_refused(value: str) -> None:
    """DISCORD_GATEWAY_URL is wss, or ws to a loopback IP."""
    with pytest.raises(SettingsError, match="DISCORD_GATEWAY_URL"):
        load_settings(_env_file=None, discord_gateway_url=value)


def test_each_bad_url_is_named_and_run_exits_2(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`genrebot run` with two bad URLs names both variables, exit status 2, no traceback."""
    env = {**clean_env, "SPOTIFY_REDIRECT_URI": "http://127.0.0.1@evil.example/callback",
           "SPOTIFY_API_BASE": "http://api.spotify.com/v1"}
    result = run_cli(["run"], env, tmp_path)
    assert result.returncode == 2
    assert "SPOTIFY_REDIRECT_URI" in result.stderr and "SPOTIFY_API_BASE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["http://127.0.0.1:8888/", "http://127.0.0.1:8888", "https://genrebot.example/cb",
                                   "http://127.0.0.1:8888/callback/"])
def test_a_redirect_uri_the_web_app_does_not_answer_is_refused(value: str) -> None:
    """Spotify sends the member's browser to SPOTIFY_REDIRECT_URI, and the web app answers only
    .../callback: any other path would show the member "Page not found" after consent."""
    with pytest.raises(SettingsError, match="SPOTIFY_REDIRECT_URI: must end in /callback"):
        load_settings(_env_file=None, spotify_redirect_uri=value)


def test_run_warns_when_a_loopback_redirect_uri_names_another_port_than_web_port(
        clean_env: dict[str, str], tmp_path: Path) -> None:
    """http://127.0.0.1:9000/callback while the pages listen on WEB_PORT 8888: a warning at start-up
    says members' browsers will find nothing there (unless something forwards the port)."""
    env = {**clean_env, "DISCORD_TOKEN": "t", "SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret",
           "DATA_DIR": str(tmp_path / "data"), "DISCORD_API_BASE": "http://127.0.0.1:1/api/v10",
           "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:9000/callback"}
    result = run_cli(["run"], env, tmp_path)
    assert result.returncode == 1, result.stderr  # it still starts: a forwarded port is allowed
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line and "SPOTIFY_REDIRECT_URI" in line]
    assert len(warnings) == 1 and "port 9000" in warnings[0] and "WEB_PORT 8888" in warnings[0], result.stderr
    same = run_cli(["run"], {**env, "WEB_PORT": "9000"}, tmp_path)
    assert not [line for line in same.stderr.splitlines() if "SPOTIFY_REDIRECT_URI" in line], same.stderr


def test_half_a_discord_oauth2_client_is_refused() -> None:
    """DISCORD_CLIENT_ID without DISCORD_CLIENT_SECRET (or the reverse) stops start-up, naming both."""
    for half in ({"discord_client_id": "123"}, {"discord_client_secret": "s3cret"}):
        with pytest.raises(SettingsError) as caught:
            load_settings(_env_file=None, **half)
        assert "DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET" in str(caught.value) and "\n" not in str(caught.value)
    assert load_settings(_env_file=None, discord_client_id="123", discord_client_secret="s3cret").discord_client_id


def test_every_secret_setting_is_redacted_from_the_log() -> None:
    """Each secret the operator configures (every SecretStr setting) is one the log redactor removes."""
    secret_fields = [name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)]
    values = {name: f"{name}-Zq8vRk2" for name in secret_fields}
    settings = load_settings(_env_file=None, discord_client_id="123", **values)
    record = logging.LogRecord("genrebot", logging.WARNING, __file__, 1, "saw %s", (" ".join(values.values()),), None)
    RedactSecrets(settings.secret_values()).filter(record)
    leaked = [name for name, value in values.items() if value in record.getMessage()]
    assert "discord_client_secret" in secret_fields and not leaked, f"unredacted: {leaked}"


def test_each_of_several_encryption_keys_is_redacted_however_they_are_spaced() -> None:
    """TOKEN_ENCRYPTION_KEY='new, old' works as two keys, and the log redactor removes both."""
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = load_settings(_env_file=None, token_encryption_key=f"{new}, {old}")
    assert settings.encryption_keys == [new, old]
    record = logging.LogRecord("genrebot", logging.WARNING, __file__, 1, "keys=%r", ([new, old],), None)
    RedactSecrets(settings.secret_values()).filter(record)
    assert new not in record.getMessage() and old not in record.getMessage(), record.getMessage()
