"""The browser-binding cookie and the CSRF token: strict cookie attributes, Secure and
`__Host-` over https, and tokens that belong to one state and one browser."""

from __future__ import annotations

from aiohttp import web

from bot.services.linking import LinkAddresses
from bot.web.browser_binding import BrowserBinding


def cookie_header(binding: BrowserBinding) -> str:
    response = web.Response()
    binding.give(response, binding.new_secret())
    return response.cookies[binding.cookie_name].OutputString()


def test_over_https_the_cookie_is_secure_and_host_only() -> None:
    """An https redirect URI makes the cookie Secure, with the __Host- prefix and Path=/."""
    addresses = LinkAddresses.beside("https://bot.example/genrebot/callback", "https://accounts.spotify.com")
    header = cookie_header(BrowserBinding(secure=addresses.secure))
    assert header.startswith("__Host-genrebot-browser=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in header
    assert "Domain" not in header


def test_over_loopback_http_the_cookie_is_not_secure() -> None:
    """http://127.0.0.1 (Spotify's loopback redirect) cannot keep a Secure cookie, so it is plain."""
    addresses = LinkAddresses.beside("http://127.0.0.1:8888/callback", "https://accounts.spotify.com")
    header = cookie_header(BrowserBinding(secure=addresses.secure))
    assert header.startswith("genrebot-browser=") and "Secure" not in header and "HttpOnly" in header


def test_a_csrf_token_belongs_to_one_state_and_one_browser() -> None:
    """The same token fails for another state, another browser, or after a restart (new key)."""
    binding = BrowserBinding(secure=False)
    token = binding.csrf_token("state-1", "browser-1")
    assert binding.csrf_ok(token, "state-1", "browser-1")
    assert not binding.csrf_ok(token, "state-2", "browser-1")
    assert not binding.csrf_ok(token, "state-1", "browser-2")
    assert not BrowserBinding(secure=False).csrf_ok(token, "state-1", "browser-1")


def test_link_pages_sit_beside_the_redirect_uri() -> None:
    """Behind a reverse proxy with a prefix, the pages and the Discord callback keep the prefix."""
    addresses = LinkAddresses.beside("https://bot.example/genrebot/callback", "https://accounts.spotify.com",
                                     "https://discord.com")
    assert addresses.confirmation_url == "https://bot.example/genrebot/link"
    assert addresses.discord_callback_url == "https://bot.example/genrebot/discord-callback"
    assert addresses.public_path == "/genrebot/"
    assert addresses.form_targets == ("https://accounts.spotify.com", "https://discord.com")
