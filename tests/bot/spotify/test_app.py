"""The app's side of OAuth: a stored token whose scopes no longer cover what genrebot asks for means
"link again", and never a console prompt (spotipy's `get_access_token` falls back to `input()`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.spotify.app import SCOPES, SpotifyApp, app_credentials_problem, check_app_credentials
from bot.spotify.errors import AppCredentialsRejected, NeedsRelink, SpotifyRateLimited, SpotifyUnavailable
from sandbox.browser import approve_blocking
from tests.bot.spotify.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SpotifyWorld

REPO = Path(__file__).resolve().parents[3]
NARROWER = ("user-library-read", "playlist-modify-private")  # what an older release asked for

# Runs in a child process with the stdin the test chooses: the member's client, seeded with the
# stored token, reads the profile; prints the name of what came out.
CHILD = """
import json, sys
from bot.spotify.app import SpotifyApp
from bot.spotify.errors import NeedsRelink
args = json.loads(sys.argv[1])
app = SpotifyApp(args["client_id"], args["client_secret"], args["redirect_uri"],
                 api_base=args["base"] + "/v1", accounts_base=args["base"])
try:
    app.user_client(args["token"]).profile()
    print("ANSWERED")
except BaseException as exc:
    print("RAISED", "NeedsRelink" if isinstance(exc, NeedsRelink) else type(exc).__name__)
"""


def token_with_scopes(world: SpotifyWorld, scopes: tuple[str, ...], user: str = "bob") -> dict[str, Any]:
    """The token an older release stored: approved through the consent page with fewer scopes."""
    older = SpotifyApp(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api_base=f"{world.base_url}/v1",
                       accounts_base=world.base_url)
    older.scopes = scopes
    redirect = approve_blocking(older.authorize_url("s") + f"&sandbox_user={user}")
    code = parse_qs(urlparse(redirect).query)["code"][0]
    token = older.exchange_code(code)
    older.close()
    assert set(token["scope"].split()) == set(scopes)
    return token


def run_child(world: SpotifyWorld, token: dict[str, Any], *, console: bool) -> str:
    """The child's last line; `console=True` gives it a stdin that stays open and never answers
    (a terminal nobody types into), else a closed one (a service with no terminal)."""
    args = json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI,
                       "base": world.base_url, "token": token})
    read_end, write_end = os.pipe()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, args], stdin=read_end if console else subprocess.DEVNULL,
                              capture_output=True, text=True, cwd=REPO, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the client waited for console input instead of answering")
    finally:
        os.close(read_end)
        os.close(write_end)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]


def test_a_token_with_narrower_scopes_means_link_again(spotify_world: SpotifyWorld) -> None:
    """A stored token missing a scope genrebot now asks for raises NeedsRelink before any request."""
    token = token_with_scopes(spotify_world, NARROWER)
    before = spotify_world.state.count()
    with pytest.raises(NeedsRelink):
        spotify_world.app.user_client(token).profile()
    assert spotify_world.state.count() == before


def test_a_token_with_narrower_scopes_without_a_terminal_means_link_again(spotify_world: SpotifyWorld) -> None:
    """With no terminal (stdin closed) the member still gets "link again", not an EOFError."""
    token = token_with_scopes(spotify_world, NARROWER)
    assert run_child(spotify_world, token, console=False) == "RAISED NeedsRelink"


def test_a_token_with_narrower_scopes_never_waits_for_console_input(spotify_world: SpotifyWorld) -> None:
    """With a console that never answers (an open pipe), the call still ends at once with NeedsRelink."""
    token = token_with_scopes(spotify_world, NARROWER)
    assert run_child(spotify_world, token, console=True) == "RAISED NeedsRelink"


def test_a_token_with_every_scope_works_in_a_process_without_a_terminal(spotify_world: SpotifyWorld) -> None:
    """The same child process with a complete token answers: the harness itself is sound."""
    token = token_with_scopes(spotify_world, SCOPES)
    assert run_child(spotify_world, token, console=False) == "ANSWERED"


def test_the_app_credentials_spotify_takes_pass_the_check(spotify_world: SpotifyWorld) -> None:
    """The client-credentials grant with the app's id and secret is answered: nothing to say at start-up."""
    check_app_credentials(CLIENT_ID, CLIENT_SECRET, spotify_world.base_url)
    assert app_credentials_problem(CLIENT_ID, CLIENT_SECRET, spotify_world.base_url) is None


@pytest.mark.parametrize(("client_id", "secret", "line"), [
    (CLIENT_ID, "a-wrong-secret",
     "Spotify refused SPOTIFY_CLIENT_SECRET (invalid_client: Invalid client secret): copy the Client ID and "
     "Client Secret from the app's page in the Spotify Developer Dashboard"),
    ("no-such-client", CLIENT_SECRET,
     "Spotify refused SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET (invalid_client: Invalid client): copy the "
     "Client ID and Client Secret from the app's page in the Spotify Developer Dashboard"),
    (CLIENT_ID, "s\u00e9cret\u201c", None),  # beyond Latin-1: sent as UTF-8 and refused, never a crash
], ids=["wrong secret", "unknown client id", "secret with typographic characters"])
def test_credentials_spotify_refuses_stop_start_up_with_a_line_naming_the_setting(
        spotify_world: SpotifyWorld, client_id: str, secret: str, line: str | None) -> None:
    """400 invalid_client is the operator's configuration, named by setting, and never the secret itself."""
    with pytest.raises(AppCredentialsRejected):
        check_app_credentials(client_id, secret, spotify_world.base_url)
    problem = app_credentials_problem(client_id, secret, spotify_world.base_url)
    assert problem is not None and problem[1] is True
    assert secret not in problem[0]
    if line is not None:
        assert problem[0] == line


@pytest.mark.parametrize(("fault", "raised"), [
    ({"status": 503}, SpotifyUnavailable), ({"status": 500}, SpotifyUnavailable),
    ({"status": 429, "retry_after": 7}, SpotifyRateLimited), ({"status": "drop"}, SpotifyUnavailable),
], ids=["503", "500", "429", "connection dropped"])
def test_a_failing_or_busy_accounts_service_only_warns(
        spotify_world: SpotifyWorld, fault: dict[str, Any], raised: type[Exception]) -> None:
    """A 5xx, a 429 or a dropped connection says nothing about the credentials: a warning, start-up goes on."""
    spotify_world.state.inject(path_prefix="/api/token", **fault)
    with pytest.raises(raised):
        check_app_credentials(CLIENT_ID, "a-wrong-secret", spotify_world.base_url)
    spotify_world.state.inject(path_prefix="/api/token", **fault)
    problem = app_credentials_problem(CLIENT_ID, "a-wrong-secret", spotify_world.base_url)
    assert problem is not None and problem[1] is False
    assert problem[0].startswith("could not check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET with Spotify (")


def test_an_accounts_service_that_cannot_be_reached_only_warns() -> None:
    """Nothing listening at SPOTIFY_ACCOUNTS_BASE: a warning naming where it looked, start-up goes on."""
    problem = app_credentials_problem(CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1:1")
    assert problem is not None and problem[1] is False
    assert "no answer from http://127.0.0.1:1/api/token" in problem[0]
