"""Expected failures of the services, each with a message fit to show a member.

The Discord layer maps these (and `bot.spotify.errors`) to friendly replies in one place.
"""

from __future__ import annotations

from collections.abc import Callable


class ServiceError(Exception):
    """An expected failure; `str(exc)` is fit to show to the member, except where a subclass keeps
    outside text (names from Discord or Spotify) apart for the page or message to escape its own
    way (`WrongDiscordAccount.describe`)."""


class NotLinked(ServiceError):
    def __init__(self) -> None:
        super().__init__("Your Spotify account isn't linked yet. Run /link first.")


class AlreadyRunning(ServiceError):
    """A sort of the member is running: a /sort's result is posted in its reply, a weekly refresh's
    summary goes by DM, so the member is told where to look."""

    def __init__(self, *, weekly_refresh: bool = False) -> None:
        self.weekly_refresh = weekly_refresh
        super().__init__(
            "Your weekly refresh is running right now; I'll DM you its summary when it's done, then you can /sort again."
            if weekly_refresh else "A sort is already running for you; I'll post its result when it's done."
        )


class LinkEnded(ServiceError):
    """The member unlinked, or linked another Spotify account, while work under their link (a sort)
    was running; it was stopped."""

    def __init__(self) -> None:
        super().__init__(
            "Your Spotify link changed while this was running (you unlinked, or linked another account), "
            "so I stopped it and kept nothing."
        )


class LinkUnreadable(ServiceError):
    """The member's stored token cannot be decrypted with the configured keys (the operator changed or
    dropped TOKEN_ENCRYPTION_KEY): not Spotify's doing, and the member stays linked, so the link works
    again once the key is back; linking again mends it at once."""

    def __init__(self) -> None:
        super().__init__(
            "I can't read your saved Spotify link: the bot's encryption key changed (a setup problem on the bot's "
            "side; its owner can see it in the logs). Nothing of yours was lost. Run /link to link again now, or "
            "try later once the owner has put the key back."
        )


class LinkFailed(ServiceError):
    """The OAuth callback could not link an account; `reason` is shown on the error page (and to
    `discord_id`, the member whose link it was, when known)."""

    def __init__(self, reason: str, discord_id: int | None = None) -> None:
        self.discord_id = discord_id
        super().__init__(reason)


class WrongDiscordAccount(LinkFailed):
    """The browser that opened a member's link is signed in to Discord as someone else.

    Both accounts' names are kept as Discord gave them: `str()` has them raw (the web page's template
    escapes them as HTML), and `describe` puts them in the message as its caller's `show` renders
    them (the Discord reply escapes their markdown there; services know nothing of Discord)."""

    def __init__(
        self, *, name: str, username: str, member_name: str, member_username: str, discord_id: int
    ) -> None:
        self.name, self.username = name, username  # the account the browser is signed in to
        self.member_name, self.member_username = member_name, member_username  # who ran /link
        super().__init__(self.describe(str), discord_id)

    def describe(self, show: Callable[[str], str]) -> str:
        return (
            f"You're signed in to Discord as {show(self.name)} (@{show(self.username)}), but this link is for "
            f"{show(self.member_name)} (@{show(self.member_username)}), so nothing was linked. Run /link "
            "yourself to link your own account."
        )


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


_FAILED_RUN = "genrebot_failed_run"  # the attribute a sort's failure carries its run's id in


def note_failed_run(error: BaseException, run_id: int) -> None:
    """`error` ended run `run_id`: whoever logs it as a bug (the command tree's on_error, which gets only
    the exception) names that run, and keeps the error id on it."""
    try:
        setattr(error, _FAILED_RUN, run_id)
    except AttributeError:  # an exception class without a __dict__: the log names no run
        pass


def failed_run(error: BaseException) -> int | None:
    """The run `error` ended (`note_failed_run`), or None."""
    run_id = getattr(error, _FAILED_RUN, None)
    return run_id if isinstance(run_id, int) else None
