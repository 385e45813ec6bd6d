"""Which OAuth scope each Web API call needs, as Spotify documents it.

Sources: the 2026 OpenAPI description (`security` of each operation) and Spotify's "Working with
Playlists" and "Scopes" pages. Where an operation lists several scopes, which one applies depends
on the object:
- creating or changing a playlist, or its items: `playlist-modify-public` for a public playlist,
  `playlist-modify-private` for a private one (collaborative ones are private); creating a
  playlist without `"public": false` makes a public one, so it needs `playlist-modify-public`;
- reading the items of a private playlist: `playlist-read-private`;
- listing the user's playlists: private ones only with `playlist-read-private`, collaborative
  ones only with `playlist-read-collaborative` ("this scope alone will not return collaborative
  playlists"); without them the list holds the public ones (no 403);
- `GET /me/library/contains`: the scope of each URI's kind (saved items: `user-library-read`;
  artists and users: `user-follow-read`; playlists: `playlist-read-private`) -- our reading of
  the three scopes the spec lists for that operation;
- `GET /me` needs none (the fields that needed `user-read-private`/`user-read-email` are gone
  for development-mode apps).
A missing scope is answered 403 `Insufficient client scope`, as Spotify does.
"""

from __future__ import annotations

INSUFFICIENT_SCOPE = "Insufficient client scope"

LIBRARY_READ = "user-library-read"
FOLLOW_READ = "user-follow-read"
PLAYLIST_READ_PRIVATE = "playlist-read-private"
PLAYLIST_READ_COLLABORATIVE = "playlist-read-collaborative"
PLAYLIST_MODIFY_PUBLIC = "playlist-modify-public"
PLAYLIST_MODIFY_PRIVATE = "playlist-modify-private"

_CONTAINS_SCOPE = {
    "track": LIBRARY_READ,
    "album": LIBRARY_READ,
    "episode": LIBRARY_READ,
    "show": LIBRARY_READ,
    "audiobook": LIBRARY_READ,
    "artist": FOLLOW_READ,
    "user": FOLLOW_READ,
    "playlist": PLAYLIST_READ_PRIVATE,
}
CONTAINS_KINDS = frozenset(_CONTAINS_SCOPE)


def modify_scope(public: bool) -> str:
    """The scope that lets an app change a playlist (or create one) with this visibility."""
    return PLAYLIST_MODIFY_PUBLIC if public else PLAYLIST_MODIFY_PRIVATE


def contains_scope(kind: str) -> str:
    return _CONTAINS_SCOPE[kind]
