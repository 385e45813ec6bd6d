"""Typed Spotify failures. Messages are safe to log and never contain tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SpotifyError(Exception):
    """Base of everything that can go wrong talking to Spotify."""


class NeedsRelink(SpotifyError):
    def __init__(self, message: str = "Spotify no longer accepts this member's authorisation") -> None:
        super().__init__(message)


class SpotifyRateLimited(SpotifyError):
    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"Spotify rate limit: retry after {retry_after_s:.0f}s")


class SpotifyQuotaExceeded(SpotifyError):
    """The app's daily quota is used up; work pauses until `resume_at` instead of retrying."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        self.resume_at = datetime.now(UTC) + timedelta(seconds=retry_after_s)
        super().__init__(f"Spotify daily quota exceeded: resumes after {retry_after_s:.0f}s")


class SpotifyUnavailable(SpotifyError):
    def __init__(self, detail: str = "Spotify did not answer") -> None:
        super().__init__(detail)


class UserNotRegistered(SpotifyError):
    def __init__(self) -> None:
        super().__init__(
            "This Spotify account is not registered for this app (development mode allows five listed "
            "users). Ask the bot owner to add you in the Spotify Developer Dashboard."
        )


class AudioFeaturesUnavailable(SpotifyError):
    def __init__(self) -> None:
        super().__init__("this Spotify app gets no audio features (403)")


class PlaylistNotReadable(SpotifyError):
    """Spotify refuses this playlist's items to the member (403): since February 2026 a
    development-mode app reads items only of playlists the member owns or collaborates on."""

    def __init__(self, playlist_id: str, name: str | None = None, owner: str | None = None) -> None:
        self.playlist_id = playlist_id
        self.name = name
        self.owner = owner
        super().__init__(f"Spotify refused the items of playlist {playlist_id} (not the member's own or shared)")


class PlaylistNotFound(SpotifyError):
    """No playlist with this id for this member (404, or an id Spotify calls malformed)."""

    def __init__(self, playlist_id: str) -> None:
        self.playlist_id = playlist_id
        super().__init__(f"Spotify has no playlist {playlist_id!r} for this member")


class PlaylistWriteFailed(SpotifyError):
    """A playlist write failed midway; `playlist_id`/`url` name the playlist so it is reused next time."""

    def __init__(self, name: str, *, restored: bool, playlist_id: str | None = None, url: str | None = None) -> None:
        self.restored = restored
        self.playlist_id = playlist_id
        self.url = url
        state = "its previous songs were put back" if restored else "it may be incomplete until the next sort"
        super().__init__(f"writing playlist {name!r} failed; {state}")
