"""Typed Spotify failures. Messages are safe to log and never contain tokens.

Callers decide on these types, never on the text of an error: the fault policy
(`bot.spotify.retry`) turns each Spotify answer into one of them from its status code, its
`reason` and, only where Spotify gives nothing else to tell two 403s apart, the exact message
of its error body.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta


class SpotifyError(Exception):
    """Base of everything that can go wrong talking to Spotify."""


class NeedsRelink(SpotifyError):
    def __init__(self, message: str = "Spotify no longer accepts this member's authorisation") -> None:
        super().__init__(message)


# What Spotify's consent page calls each scope genrebot asks for (the scope list of Spotify's
# OpenAPI description), so a member is told a missing permission in the words they approved.
SCOPE_DESCRIPTIONS = {
    "user-library-read": "Access your saved content",
    "playlist-modify-private": "Manage your private playlists",
    "playlist-modify-public": "Manage your public playlists",
    "playlist-read-private": "Access your private playlists",
    "playlist-read-collaborative": "Access your collaborative playlists",
}


class ScopesMissing(NeedsRelink):
    """The member's authorisation lacks permissions genrebot needs: Spotify granted fewer scopes than
    asked (its token answer's `scope` says which), or refused a call as "Insufficient client scope".
    `missing` names them where known."""

    def __init__(self, missing: Iterable[str] = ()) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__(f"the Spotify authorisation lacks {', '.join(self.missing) or 'a permission a call needs'}")

    def permissions(self) -> str:
        """The missing permissions as the member saw them on Spotify's page, for a sentence such as
        "Spotify didn't give genrebot {…}": names where known, else "every permission it needs"."""
        if not self.missing:
            return "every permission it needs"
        named = ", ".join(f"“{SCOPE_DESCRIPTIONS[s]}”" if s in SCOPE_DESCRIPTIONS else s for s in self.missing)
        return f"the permission{'s' if len(self.missing) > 1 else ''} {named}"


class SpotifyRateLimited(SpotifyError):
    """Spotify (or genrebot's own rate gate, on its behalf) asks every caller to wait `retry_after_s`."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"Spotify rate limit: retry after {retry_after_s:.0f}s")


class SpotifyQuotaExceeded(SpotifyError):
    """The app's quota is used up: all Spotify work pauses until `resume_at` instead of retrying.

    `retry_after_s` is always finite and bounded (see `bot.spotify.retry.retry_after_s`), so
    `resume_at` is a real moment that can be shown to a member.
    """

    def __init__(self, retry_after_s: float, *, now: datetime | None = None) -> None:
        self.retry_after_s = retry_after_s
        self.resume_at = (now or datetime.now(UTC)) + timedelta(seconds=retry_after_s)
        super().__init__(f"Spotify quota exceeded: resumes after {retry_after_s:.0f}s")


class SpotifyUnavailable(SpotifyError):
    def __init__(self, detail: str = "Spotify did not answer") -> None:
        super().__init__(detail)


class WriteOutcomeUnknown(SpotifyUnavailable):
    """A write that is not safe to repeat (creating a playlist, adding songs) got no clear answer:
    it may or may not have happened. The caller re-reads Spotify's state before deciding."""


class AppCredentialsRejected(SpotifyError):
    """Spotify's accounts service refused the app's own credentials (400 `invalid_client`): the bot's
    SPOTIFY_CLIENT_ID or SPOTIFY_CLIENT_SECRET is wrong (or the secret was reset in the dashboard).
    An operator's configuration error, never the member's: `description` is Spotify's own words
    ("Invalid client" for an id it does not know, "Invalid client secret" for a wrong secret)."""

    def __init__(self, description: str = "") -> None:
        self.description = description
        super().__init__(f"Spotify refused the app's credentials (invalid_client: {description or 'no description'})")

    @property
    def settings(self) -> str:
        """The setting(s) to check, as far as Spotify's answer tells."""
        if self.description.lower() == "invalid client secret":
            return "SPOTIFY_CLIENT_SECRET"
        return "SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET"

    @property
    def operator_line(self) -> str:
        """One line for the operator: what Spotify said and which setting to fix."""
        return (f"Spotify refused {self.settings} (invalid_client: {self.description or 'no description'}): "
                "copy the Client ID and Client Secret from the app's page in the Spotify Developer Dashboard")


class UserNotRegistered(SpotifyError):
    def __init__(self) -> None:
        super().__init__(
            "This Spotify account is not registered for this app (development mode allows five listed "
            "users). Ask the bot owner to add you in the Spotify Developer Dashboard."
        )


class OwnerPremiumRequired(SpotifyError):
    """Spotify refuses every Web API call of a development-mode app whose owner has no Premium."""

    def __init__(self) -> None:
        super().__init__(
            "Spotify refuses this app: the owner of a development-mode app needs an active Premium "
            "subscription (Spotify answers 403 'Active premium subscription required for the owner of the app')"
        )


class AudioFeaturesUnavailable(SpotifyError):
    def __init__(self) -> None:
        super().__init__("this Spotify app gets no audio features (403 from /audio-features)")


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


class PlaylistNotFollowed(SpotifyError):
    """The member no longer has this playlist in their library: deleting a playlist in Spotify
    only unfollows it, and Spotify still serves its items, so only asking tells."""

    def __init__(self, playlist_id: str, name: str | None = None) -> None:
        self.playlist_id = playlist_id
        self.name = name
        super().__init__(f"playlist {playlist_id} is no longer in the member's library")


class LibraryChangedDuringRead(SpotifyError):
    """The member's Liked Songs kept changing while they were read; reading again later will work."""

    def __init__(self) -> None:
        super().__init__("the member's Liked Songs kept changing while they were being read")


class PlaylistWriteFailed(SpotifyError):
    """A playlist write failed midway; `playlist_id`/`url` name the playlist so it is reused next time.
    A sort that wrote some of its playlists and not others says so: `others` names the other playlists
    it could not write (or make), `up_to_date` counts those it wrote or found right (None: not counted)."""

    def __init__(
        self, name: str, *, restored: bool, playlist_id: str | None = None, url: str | None = None,
        others: tuple[str, ...] = (), up_to_date: int | None = None,
    ) -> None:
        self.name = name
        self.restored = restored
        self.playlist_id = playlist_id
        self.url = url
        self.others = others
        self.up_to_date = up_to_date
        state = "its previous songs were put back" if restored else "it may be incomplete until the next sort"
        also = f" (and {len(others)} other playlist(s))" if others else ""
        written = f"; {up_to_date} other playlist(s) written" if up_to_date is not None else ""
        super().__init__(f"writing playlist {name!r}{also} failed; {state}{written}")
