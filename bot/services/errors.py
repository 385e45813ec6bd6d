"""Expected failures of the services, each with a message fit to show a member.

The Discord layer maps these (and `bot.spotify.errors`) to friendly replies in one place.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An expected failure; `str(exc)` is safe to show to the member."""


class NotLinked(ServiceError):
    def __init__(self) -> None:
        super().__init__("Your Spotify account isn't linked yet. Run /link first.")


class AlreadyRunning(ServiceError):
    def __init__(self) -> None:
        super().__init__("A sort is already running for you; I'll post its result when it's done.")


class LinkEnded(ServiceError):
    """The member unlinked while work under their link (a sort) was running; it was stopped."""

    def __init__(self) -> None:
        super().__init__("You unlinked Spotify while this was running, so I stopped it and kept nothing.")


class LinkFailed(ServiceError):
    """The OAuth callback could not link an account; `reason` is shown on the error page."""

    def __init__(self, reason: str, discord_id: int | None = None) -> None:
        self.discord_id = discord_id
        super().__init__(reason)


class UnknownSource(ServiceError):
    """What the member typed as a source names none of their playlists."""

    def __init__(self, typed: str, *, collaborative_listed: bool = True) -> None:
        self.typed = typed
        hint = (
            ""
            if collaborative_listed
            else " If it's a playlist you collaborate on, run /link again so I can see those too."
        )
        super().__init__(
            "I couldn't find a playlist of yours by that name. Pick one from the suggestions, or paste the "
            f"playlist's Spotify link.{hint}"
        )


class SourceRefused(ServiceError):
    """A source genrebot will not sort (one of the playlists it made, a name shared by several)."""
