"""genrebot's Spotify client: OAuth, Liked Songs, audio features and playlist writing.

Built on spotipy, with our own HTTP session and fault policy (429, quota, 5xx, expired or
revoked tokens, unregistered development-mode users). `app.SpotifyApp` is the app-wide factory;
`client.SpotifyUserClient` is one member's client; `retry` is the fault policy; `library_sync`
and `playlist_sync` read Liked Songs and write playlists. Everything here is blocking: async
callers run it with `asyncio.to_thread`. Imports neither discord nor storage
(tests/test_layers.py: spotify-client-is-only-spotify).
"""
