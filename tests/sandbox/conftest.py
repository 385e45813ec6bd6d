"""The sandbox tests share the Spotify world fixture."""

from tests.spotify.conftest import spotify_world  # noqa: F401
