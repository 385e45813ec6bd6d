"""The accounts service refuses what Spotify's refuses: redirect URIs, consent, scopes, tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
import spotipy

from sandbox.state import DEFAULT_REDIRECT_URI, RefreshRotation, SandboxState
from sandbox.tokens import OMITTED
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Sandbox

SIX_MONTHS_S = 183 * 86_400


def _location_query(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    return parse_qs(urlparse(response.headers["Location"]).query)


@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1:9/callback/", "http://127.0.0.1:10/callback", "http://127.0.0.1:9/callback?next=/evil",
    "https://evil.example/callback", "http://localhost:9/callback",
])
def test_only_the_exact_registered_redirect_uri_gets_a_code(sandbox: Sandbox, redirect_uri: str) -> None:
    """Anything but the registered URI, character for character, gets Spotify's error page."""
    response = requests.get(sandbox.authorize_url(redirect_uri=redirect_uri, user="alice"), allow_redirects=False,
                            timeout=10)
    assert response.status_code == 400 and "Invalid redirect URI" in response.text
    assert "Location" not in response.headers


def test_by_default_only_the_bots_default_callback_is_registered() -> None:
    """A sandbox set up without redirect URIs accepts the bot's default callback and nothing else."""
    from bot.settings import DEFAULT_REDIRECT_URI as BOTS_DEFAULT

    assert SandboxState().redirect_uris == {DEFAULT_REDIRECT_URI} == {BOTS_DEFAULT}


def test_show_dialog_true_shows_the_consent_page_even_to_a_scripted_user(sandbox: Sandbox) -> None:
    """`auto_approve` skips the page, but never when the app asks for it with show_dialog=true."""
    assert sandbox.state.auto_approve
    response = requests.get(sandbox.authorize_url(user="alice", show_dialog="true"), allow_redirects=False, timeout=10)
    assert response.status_code == 200 and "<form method=post>" in response.text


def test_the_consent_page_names_the_spotify_user_who_approves(sandbox: Sandbox) -> None:
    """Multi-user tests can see who is about to approve, and switch with ?sandbox_user=."""
    page = requests.get(sandbox.authorize_url(user="bob", show_dialog="true"), timeout=10).text
    assert "id=spotify-user>Bob</strong>" in page and "<code>bob</code>" in page
    assert "sandbox_user=alice" in page  # a link to log in as the other user


def test_approving_on_the_consent_page_sends_the_code_to_the_redirect_uri(sandbox: Sandbox) -> None:
    """The form posts the decision; approve redirects with a code and the app's state."""
    url = sandbox.authorize_url(user="bob", show_dialog="true")
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    approved = requests.post(f"{sandbox.base_url}/authorize", data={**params, "decision": "approve"},
                             allow_redirects=False, timeout=10)
    query = _location_query(approved)
    assert approved.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query["state"] == ["state-1"] and query["code"]
    denied = requests.post(f"{sandbox.base_url}/authorize", data={**params, "decision": "deny"},
                           allow_redirects=False, timeout=10)
    assert _location_query(denied)["error"] == ["access_denied"]


def test_a_user_who_approved_is_not_asked_again_unless_show_dialog(sandbox: Sandbox) -> None:
    """Without the scripted user, the page shows until the user approved these scopes once."""
    sandbox.state.auto_approve = False
    first = requests.get(sandbox.authorize_url(user="bob"), allow_redirects=False, timeout=10)
    assert first.status_code == 200
    params = {k: v[0] for k, v in parse_qs(urlparse(sandbox.authorize_url(user="bob")).query).items()}
    requests.post(f"{sandbox.base_url}/authorize", data={**params, "decision": "approve"}, allow_redirects=False,
                  timeout=10)
    again = requests.get(sandbox.authorize_url(user="bob"), allow_redirects=False, timeout=10)
    assert _location_query(again)["code"]
    forced = requests.get(sandbox.authorize_url(user="bob", show_dialog="true"), allow_redirects=False, timeout=10)
    assert forced.status_code == 200


def test_an_unknown_scope_is_refused(sandbox: Sandbox) -> None:
    """A scope Spotify does not know sends the user back with error=invalid_scope, no code."""
    response = requests.get(sandbox.authorize_url("user-library-read playlist-read-everything", user="alice"),
                            allow_redirects=False, timeout=10)
    query = _location_query(response)
    assert query["error"] == ["invalid_scope"] and "code" not in query


def test_without_rotation_a_refresh_keeps_the_same_refresh_token(sandbox: Sandbox) -> None:
    """Spotify's usual answer: a new access token, no refresh_token, the old one still good."""
    manager, first = sandbox.linked_oauth("alice")
    for _ in range(3):
        refreshed = manager.refresh_access_token(first["refresh_token"])
        assert refreshed["refresh_token"] == first["refresh_token"]  # spotipy keeps the old one
        assert refreshed["access_token"] != first["access_token"]


def test_a_rotated_out_refresh_token_keeps_working_as_spotify_keeps_a_client_secret_apps(sandbox: Sandbox) -> None:
    """By default a refresh that answers a new refresh token leaves the one used valid (spotify/web-api#911)."""
    sandbox.state.refresh_rotation = RefreshRotation(every=1)
    manager, tokens = sandbox.linked_oauth("alice")
    original = tokens["refresh_token"]
    rotated = manager.refresh_access_token(original)["refresh_token"]
    assert rotated != original
    sandbox.clock.advance(30 * 86_400)
    assert manager.refresh_access_token(original)["access_token"]
    assert manager.refresh_access_token(rotated)["access_token"]


def test_a_refresh_whose_answer_is_lost_leaves_the_refresh_token_good(sandbox: Sandbox) -> None:
    """The refresh is made but its answer breaks off mid-body: the refresh token used still refreshes."""
    manager, tokens = sandbox.linked_oauth("alice")
    sandbox.state.inject("cut", method="POST", path_prefix="/api/token")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        manager.refresh_access_token(tokens["refresh_token"])
    assert sandbox.state.tokens.refreshes == 1  # Spotify made that refresh
    assert manager.cache_handler.get_cached_token() == tokens  # spotipy saved nothing of it
    assert manager.refresh_access_token(tokens["refresh_token"])["access_token"] != tokens["access_token"]


def test_rotation_without_a_grace_revokes_the_old_refresh_token_as_for_pkce(sandbox: Sandbox) -> None:
    """Every 2nd refresh answers a new refresh token; with no grace (a PKCE client's single-use
    tokens) the old one then gets invalid_grant."""
    sandbox.state.refresh_rotation = RefreshRotation(every=2, grace_s=0)
    manager, tokens = sandbox.linked_oauth("alice")
    original = tokens["refresh_token"]
    assert manager.refresh_access_token(original)["refresh_token"] == original  # 1st: not rotated
    rotated = manager.refresh_access_token(original)["refresh_token"]  # 2nd: rotated
    assert rotated != original
    with pytest.raises(spotipy.SpotifyOauthError) as refused:
        manager.refresh_access_token(original)
    assert refused.value.error == "invalid_grant" and refused.value.error_description == "Refresh token revoked"
    assert manager.refresh_access_token(rotated)["access_token"]


def test_a_rotated_out_refresh_token_works_until_its_grace_ends(sandbox: Sandbox) -> None:
    """With a grace period the old token keeps working for that long, then is revoked."""
    sandbox.state.refresh_rotation = RefreshRotation(every=1, grace_s=60)
    manager, tokens = sandbox.linked_oauth("alice")
    original = tokens["refresh_token"]
    assert manager.refresh_access_token(original)["refresh_token"] != original
    sandbox.clock.advance(59)
    assert manager.refresh_access_token(original)["access_token"]
    sandbox.clock.advance(2)
    with pytest.raises(spotipy.SpotifyOauthError, match="revoked"):
        manager.refresh_access_token(original)


def test_a_rotated_refresh_token_expires_six_months_after_the_approval(sandbox: Sandbox) -> None:
    """Refreshing (and rotating) does not extend a refresh token's six months."""
    sandbox.state.refresh_rotation = RefreshRotation(every=1)
    manager, tokens = sandbox.linked_oauth("alice")
    token = tokens["refresh_token"]
    sandbox.clock.advance(SIX_MONTHS_S - 10)
    token = manager.refresh_access_token(token)["refresh_token"]
    sandbox.clock.advance(20)
    with pytest.raises(spotipy.SpotifyOauthError) as refused:
        manager.refresh_access_token(token)
    assert refused.value.error_description == "Refresh token expired"


def test_a_code_is_refused_with_another_redirect_uri_or_a_second_time(sandbox: Sandbox) -> None:
    """The code exchange must repeat the redirect URI, and a code is good once."""
    code = sandbox.code_for("alice")
    wrong = requests.post(f"{sandbox.base_url}/api/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "x"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    again = requests.post(f"{sandbox.base_url}/api/token", auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert again.json() == {"error": "invalid_grant", "error_description": "Invalid authorization code"}


@pytest.mark.parametrize("show_dialog", ["true", "false"])
async def test_the_scripted_browser_clicks_agree_when_the_consent_page_shows(sandbox: Sandbox, show_dialog: str) -> None:
    """`sandbox.browser.approve` gets a code through the page as a member's browser would."""
    import aiohttp

    from sandbox.browser import approve

    async with aiohttp.ClientSession() as session:
        answer = await approve(session, sandbox.authorize_url(user="bob", show_dialog=show_dialog), follow=False)
        query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query["state"] == ["state-1"]
    access_token = sandbox.oauth().get_access_token(query["code"][0], as_dict=False, check_cache=False)
    user = sandbox.state.user_for_token(access_token)
    assert user is not None and user.id == "bob"


def test_a_lapsed_owner_premium_refuses_every_web_api_call_but_not_tokens(sandbox: Sandbox) -> None:
    """With the app owner's Premium lapsed, tokens still come but every Web API call answers 403."""
    sandbox.state.owner_premium = False
    client = sandbox.link("alice")  # the token exchange still works
    for call in (client.me, client.current_user_saved_tracks, client.current_user_playlists):
        with pytest.raises(spotipy.SpotifyException) as refused:
            call()
        assert refused.value.http_status == 403
        assert refused.value.msg.endswith("Active premium subscription required for the owner of the app")
    sandbox.state.owner_premium = True
    assert client.me()["id"] == "alice"


def test_an_unlisted_user_gets_spotifys_2026_not_registered_403_on_every_call(sandbox: Sandbox) -> None:
    """A user the development-mode app's owner has not listed gets tokens, then 403 on every Web
    API call, worded as Spotify words it since 2026 (Lioncat6/OSC-Chat-Tools#32), not an older wording."""
    sandbox.state.users["bob"].registered = False
    client = sandbox.link("bob")
    for call in (client.me, client.current_user_saved_tracks, client.current_user_playlists):
        with pytest.raises(spotipy.SpotifyException) as refused:
            call()
        assert refused.value.http_status == 403
        assert refused.value.msg.endswith("The user is not registered for this application. "
                                          "Please check your settings on https://developer.spotify.com/dashboard.")


def test_the_not_registered_403_is_plain_text_not_a_json_error_object(sandbox: Sandbox) -> None:
    """Spotify sends this one refusal as a bare string (spotipy-dev/spotipy#689), so a client that
    reads `{"error": {"message"}}` from every 4xx meets a body that is not JSON."""
    client = sandbox.link("bob")
    sandbox.state.users["bob"].registered = False
    answer = sandbox.api(client, "GET", "/me")
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text.startswith("The user is not registered for this application.")


def test_the_blocking_scripted_browser_clicks_agree_too(sandbox: Sandbox) -> None:
    """`sandbox.browser.approve_blocking` gets past the always-shown consent page without a loop."""
    from sandbox.browser import approve_blocking

    query = parse_qs(urlparse(approve_blocking(sandbox.authorize_url(user="bob", show_dialog="true"))).query)
    access_token = sandbox.oauth().get_access_token(query["code"][0], as_dict=False, check_cache=False)
    user = sandbox.state.user_for_token(access_token)
    assert user is not None and user.id == "bob"


def test_token_answers_can_carry_an_odd_expires_in_or_none(sandbox: Sandbox) -> None:
    """`answer_fields` changes what every token answer says (a field replaced, or left out), for
    clients that must cope with what a proxy or a changed accounts service sends."""
    sandbox.state.tokens.answer_fields = {"expires_in": OMITTED, "token_type": "bearer"}
    answer = requests.post(f"{sandbox.base_url}/api/token", timeout=10, auth=(CLIENT_ID, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": sandbox.code_for("alice"), "redirect_uri": REDIRECT_URI,
    }).json()
    assert "expires_in" not in answer and answer["token_type"] == "bearer" and answer["access_token"]


def test_the_client_credentials_grant_answers_an_app_token_without_refresh_token_or_scope(sandbox: Sandbox) -> None:
    """POST /api/token grant_type=client_credentials with the app's Basic auth: an hour's bearer token
    for the app alone, as Spotify's Client Credentials Flow answers it."""
    answer = requests.post(f"{sandbox.base_url}/api/token", timeout=10, auth=(CLIENT_ID, CLIENT_SECRET),
                           data={"grant_type": "client_credentials"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["access_token"] and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "refresh_token" not in body and "scope" not in body


@pytest.mark.parametrize(("client_id", "client_secret", "description"), [
    ("no-such-app", CLIENT_SECRET, "Invalid client"),
    (CLIENT_ID, "a-wrong-secret", "Invalid client secret"),
    (CLIENT_ID, "", "Invalid client secret"),
], ids=["unknown client id", "wrong secret", "empty secret"])
@pytest.mark.parametrize("grant", ["client_credentials", "authorization_code", "refresh_token"])
def test_a_wrong_client_id_or_secret_is_invalid_client_for_every_grant(
        sandbox: Sandbox, client_id: str, client_secret: str, description: str, grant: str) -> None:
    """An unknown client id is 400 invalid_client "Invalid client", a known one with the wrong secret
    400 invalid_client "Invalid client secret", whatever the grant, before the grant is looked at."""
    answer = requests.post(f"{sandbox.base_url}/api/token", timeout=10, auth=(client_id, client_secret),
                           data={"grant_type": grant, "code": "x", "refresh_token": "x", "redirect_uri": REDIRECT_URI})
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_client", "error_description": description}
