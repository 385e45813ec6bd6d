"""genrebot's Spotify client: OAuth, Liked Songs, audio features and playlist writing.

Built on spotipy, with our own HTTP session and fault policy (429, quota, 5xx, expired or
revoked tokens, unregistered development-mode users). Everything here is blocking: async
callers run it with `asyncio.to_thread`. Must not import discord or storage.
"""
