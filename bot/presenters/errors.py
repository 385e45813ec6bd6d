"""The one map from an expected failure to the reply a member gets (`error_message`), and the
apology, with an error id, for anything else; and the same failures as /status names them in a
run's history (`run_failure_text`)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.presenters.limits import discord_relative_time, safe, safe_within
from bot.services.errors import ServiceError, WrongDiscordAccount
from bot.services.genre_names import NoGenresNamed, UnknownGenre, shorten
from bot.services.sorting.service import failure_kind
from bot.services.weekly_schedule import InvalidSchedule
from bot.spotify.errors import (
    AppCredentialsRejected,
    AudioFeaturesUnavailable,
    LibraryChangedDuringRead,
    NeedsRelink,
    OwnerPremiumRequired,
    PlaylistNotFollowed,
    PlaylistNotFound,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    ScopesMissing,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
    WriteOutcomeUnknown,
)
from bot.spotify.retry import SpotifyRefused
from storage.errors import DatabaseUnwritable

TYPED_VALUE_LIMIT = 40  # how much of an unknown time zone or weekday a reply repeats
DISCORD_NAME_LIMIT = 100  # Discord's names have at most 32 characters: room for every one escaped


def error_message(error: BaseException) -> str | None:
    """The reply a member gets for an expected failure, or None for a bug."""
    if isinstance(error, UnknownGenre):
        unknown = safe_within(", ".join(error.unknown), 300)
        noun = "genre" if len(error.unknown) == 1 else "genres"
        close = f" Did you mean {', '.join(safe(s[:100]) for s in error.suggestions[:5])}?" if error.suggestions else ""
        return f"I don't know the {noun} {unknown}.{close} `/genres` lists them all."
    if isinstance(error, NoGenresNamed):
        return ("That list of genres names no family or genre. Leave `genres:` out to sort into every family, "
                "or name some, e.g. `jazz, k-pop`; `/genres` lists them all.")
    if isinstance(error, InvalidSchedule):
        return error.describe(_typed)
    if isinstance(error, WrongDiscordAccount):
        return error.describe(lambda name: safe_within(name, DISCORD_NAME_LIMIT))
    if isinstance(error, ServiceError):
        return str(error)
    if isinstance(error, PlaylistNotReadable):
        name = f"“{safe(shorten(error.name, 80))}”" if error.name else "That playlist"
        owner = safe(shorten(error.owner, 60)) if error.owner else "someone else"
        return (
            f"{name} belongs to {owner}. Spotify lets genrebot read only playlists you own or collaborate on: "
            f"make your own copy of it in Spotify (or ask {owner} to add you as a collaborator), then sort that."
        )
    if isinstance(error, PlaylistNotFollowed):
        name = f"“{safe(shorten(error.name, 80))}”" if error.name else "That playlist"
        return (
            f"{name} is no longer in your Spotify library (deleted or unfollowed), so I left it alone. "
            "Add it back in Spotify to have it sorted again, or take it off with /schedule remove."
        )
    if isinstance(error, PlaylistNotFound):
        return (
            "Spotify has no playlist of yours at that link: it may have been deleted. Playlists Spotify makes "
            "(Discover Weekly, Daily Mix…) can't be read by apps: copy its songs into a playlist of your own."
        )
    if isinstance(error, ScopesMissing):
        return (f"Spotify didn't give genrebot {error.permissions()}, so it can't do this for you. Run /link and "
                "approve every permission on Spotify's page.")
    if isinstance(error, NeedsRelink):
        return "Spotify needs you to link your account again (links expire after a while). Run /link."
    if isinstance(error, AppCredentialsRejected):
        return (
            "The bot's setup is wrong: Spotify doesn't accept the bot's app credentials, so nothing was changed. "
            "This isn't something you did; tell the server owner."
        )
    if isinstance(error, DatabaseUnwritable):
        return (
            "I couldn't save my work: the bot's storage can't be written right now (its disk may be full). "
            "Your Liked Songs were not touched and nothing I had stored for you was lost. This isn't something "
            "you did; tell the server owner, and try again once it's fixed."
        )
    if isinstance(error, UserNotRegistered):
        return (
            "This bot's Spotify app is in development mode and your Spotify account isn't on its list of "
            "allowed users. Ask the bot owner to add you in the Spotify Developer Dashboard, then try again."
        )
    if isinstance(error, SpotifyQuotaExceeded):
        return (
            "Spotify's request quota for this bot is used up, so I've stopped asking Spotify anything until "
            f"{discord_relative_time(error.resume_at)}. Run /sort again after that."
        )
    if isinstance(error, LibraryChangedDuringRead):
        return (
            "Your Liked Songs kept changing while I was reading them, so I stopped rather than miss any. "
            "Nothing was changed; run /sort again in a minute."
        )
    if isinstance(error, OwnerPremiumRequired):
        return (
            "Spotify is refusing this bot right now: the Spotify account that owns the bot's app needs an "
            "active Premium subscription (Spotify's rule for apps in development mode). The bot owner has "
            "been told; please try again once it's sorted out."
        )
    if isinstance(error, PlaylistWriteFailed):
        return _playlist_write_failed(error)
    if isinstance(error, SpotifyRateLimited):
        return f"Spotify asked us to slow down. Try again in {max(1, round(error.retry_after_s))} seconds."
    if isinstance(error, SpotifyUnavailable):
        return "Spotify isn't answering right now. Nothing was changed; try again in a few minutes."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! Please wait {error.retry_after:.0f} seconds before the next command."
    if isinstance(error, app_commands.TransformerError):
        # Unreachable from members (Discord's client sends only an option's listed choices), kept as a
        # defence: quoted like any typed text, never inside backticks where an escape cannot work.
        return f"I couldn't understand '{_typed(str(error.value))}' for that option."
    return None


def _playlist_write_failed(error: PlaylistWriteFailed) -> str:
    """Which playlists Spotify failed to write, and how many of the sort's others are up to date."""
    written = ""
    if error.up_to_date:
        noun = "playlist is" if error.up_to_date == 1 else "playlists are"
        written = f" Your other {error.up_to_date:,} {noun} up to date."
    if error.restored and not error.others:
        return (
            f"Spotify failed partway through updating “{safe(shorten(error.name, 80))}”, so I put its previous "
            f"songs back.{written} Your library was not touched; run /sort again in a few minutes."
        )
    names = [f"“{safe(shorten(name, 80))}”" for name in (error.name, *error.others)]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    it = "it" if len(names) == 1 else "each"
    return (
        f"Spotify failed partway through writing {shown}: until the next sort {it} may be missing some songs "
        f"or still hold some that moved to another playlist.{written} Your library was not "
        "touched, and the next /sort (or weekly refresh) finishes the job from what Spotify holds."
    )


# A failed run's reason in /status, by the error class the run history names (`failure_kind`):
# short, since /status gives each run one line; what to do next is the reply's job.
_RUN_FAILURES: dict[str, str] = {
    cls.__name__: text
    for classes, text in (
        ((SpotifyUnavailable, WriteOutcomeUnknown), "Spotify wasn't answering"),
        ((SpotifyRateLimited,), "Spotify asked genrebot to slow down"),
        ((SpotifyQuotaExceeded,), "Spotify's request quota for genrebot was used up"),
        ((NeedsRelink,), "your Spotify link needed renewing (run /link)"),
        ((UserNotRegistered,), "your Spotify account isn't on this bot's list of allowed users"),
        ((OwnerPremiumRequired,), "Spotify refused this bot (its owner's Premium)"),
        ((AppCredentialsRejected,), "Spotify refused the bot's app credentials (its owner's setup)"),
        ((PlaylistNotReadable,), "Spotify lets genrebot read only playlists you own or collaborate on"),
        ((PlaylistNotFound,), "Spotify had no such playlist"),
        ((PlaylistNotFollowed,), "the playlist was no longer in your library"),
        ((PlaylistWriteFailed,), "Spotify failed partway through writing a playlist"),
        ((LibraryChangedDuringRead,), "your Liked Songs kept changing while they were read"),
        ((DatabaseUnwritable,), "genrebot's storage could not be written (its owner's to fix)"),
        ((SpotifyRefused, SpotifyError, AudioFeaturesUnavailable), "Spotify refused a request"),
    )
    for cls in classes
}
RUN_FAILED_ON_OUR_SIDE = "something went wrong on genrebot's side"


def run_failure_text(error: str) -> str:
    """Why a run failed, as /status says it: a message written for the member as it is (unescaped),
    an error's class never (`SpotifyUnavailable: Spotify answered 503` is 'Spotify wasn't answering')."""
    kind = failure_kind(error)
    if kind is None:
        return error
    return _RUN_FAILURES.get(kind, RUN_FAILED_ON_OUR_SIDE)


def _typed(value: str) -> str:
    """What a member typed, repeated in a reply: escaped, on one line, at most TYPED_VALUE_LIMIT characters."""
    return safe_within(value, TYPED_VALUE_LIMIT) if value.strip() else ""


# The permissions Discord applies to interaction replies (its change log of 29 June 2022: "currently
# ATTACH_FILES, EMBED_LINKS, MENTION_EVERYONE, and USE_EXTERNAL_EMOJIS"), of those genrebot's replies use.
REPLY_PERMISSIONS = (("embed_links", "Embed Links"), ("attach_files", "Attach Files"))
MISSING_PERMISSIONS = 50013


def missing_reply_permissions(permissions: discord.Permissions) -> list[str]:
    """The names of the permissions genrebot's replies need that it lacks where it was asked."""
    return [name for flag, name in REPLY_PERMISSIONS if not getattr(permissions, flag)]


def missing_permissions_message(missing: list[str]) -> str:
    """A reply Discord refused (403 50013) because a channel overwrite takes a permission from genrebot."""
    what = " and ".join(f"**{name}**" for name in missing) or "**Embed Links** and **Attach Files**"
    return (f"I can't show that in this channel: genrebot lacks {what} here. Ask a server admin to allow "
            "it for genrebot in this channel, or run the command in another channel or in a DM with me.")


def unexpected_error_message(error_id: str) -> str:
    return f"Sorry, something went wrong on my side (error id `{error_id}`). Please try again later."


def refresh_failed_message(error_id: str) -> str:
    """A weekly refresh a bug stopped before it sorted anything: the error id finds its traceback in the log."""
    return f"Your weekly refresh failed on my side (error id `{error_id}`); I'll try again next week."
