"""The replies to expected failures: each its own short text, escaped, saying what the member can
do; a bug gets none of its own."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest
from discord import app_commands

from bot.presenters.errors import (
    error_message,
    missing_permissions_message,
    missing_reply_permissions,
    run_failure_text,
)
from bot.services.errors import AlreadyRunning, NotLinked, SourceRefused, UnknownSource
from bot.services.genre_names import UnknownGenre
from bot.services.weekly_schedule import InvalidSchedule, parse_timezone, parse_weekday
from bot.spotify.app import SCOPES
from bot.spotify.errors import (
    SCOPE_DESCRIPTIONS,
    AppCredentialsRejected,
    NeedsRelink,
    OwnerPremiumRequired,
    PlaylistNotFound,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    ScopesMissing,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)
from storage.errors import DatabaseUnwritable
from tests.bot.presenters.discord_markdown import live_markdown, live_mentions, shown_text


def test_someone_elses_playlist_is_refused_naming_it_its_owner_and_the_way_out() -> None:
    """The reply names the playlist and owner (escaped) and says what the member can do instead."""
    message = error_message(PlaylistNotReadable("x" * 22, "@everyone hits", "Bob"))
    assert message is not None and message.startswith("“@\u200beveryone hits” belongs to Bob.")
    assert "own or collaborate on" in message and "copy" in message


def test_a_playlist_write_failing_midway_says_what_the_playlist_holds_now() -> None:
    """Put back: its old songs are there. Not put back: it may be incomplete until the next sort finishes it
    (never "nothing was changed"); the name is escaped."""
    restored = error_message(PlaylistWriteFailed("Rock · genrebot", restored=True)) or ""
    assert "“Rock · genrebot”" in restored and "previous songs back" in restored
    unfinished = error_message(PlaylistWriteFailed("@everyone · genrebot", restored=False)) or ""
    assert "“@\u200beveryone · genrebot”" in unfinished and "may be missing some songs" in unfinished
    assert "next /sort" in unfinished and "Nothing was changed" not in unfinished


@pytest.mark.parametrize(
    "error",
    [
        NotLinked(), AlreadyRunning(), InvalidSchedule("hour must be between 0 and 23"), NeedsRelink(),
        UserNotRegistered(), SpotifyQuotaExceeded(3600), SpotifyRateLimited(5), SpotifyUnavailable(),
        UnknownGenre(["polka"], ["Pop", "Punk"]), PlaylistNotReadable("x" * 22, "Hits", "Bob"),
        PlaylistNotFound("x" * 22), UnknownSource("Road"), SourceRefused("That's one of the playlists I made."),
        OwnerPremiumRequired(), PlaylistWriteFailed("Rock · genrebot", restored=True),
        AppCredentialsRejected("Invalid client secret"),
        app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 12.0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_expected_failure_has_a_reply(error: Exception) -> None:
    """Each typed failure maps to its own short text, never the exception's class name."""
    message = error_message(error)
    assert message and type(error).__name__ not in message and len(message) < 400


def test_the_apps_credentials_refused_tell_the_member_to_tell_the_server_owner() -> None:
    """A /sort whose token refresh Spotify refuses as invalid_client (the app's secret reset in the
    dashboard): the bot's setup, not the member's link; not "Spotify refused a request"."""
    message = error_message(AppCredentialsRejected("Invalid client secret")) or ""
    assert "The bot's setup is wrong" in message and "tell the server owner" in message
    assert "/link" not in message and "SPOTIFY_CLIENT_SECRET" not in message


def test_a_database_the_bot_cannot_write_is_the_owners_to_fix_and_lost_nothing() -> None:
    """A sort whose write met a full disk (or a database made read-only): not 'something went wrong on
    my side' with an error id, but what happened to the member's data and who can fix it; /status names it
    too. The operator's reason (the path, SQLite's error) stays in the log."""
    error = DatabaseUnwritable("cannot write the database /srv/genrebot/genrebot.sqlite3: database or disk is full")
    message = error_message(error) or ""
    assert "disk may be full" in message and "tell the server owner" in message and "was lost" in message
    assert "/srv" not in message and "SQLITE" not in message
    assert run_failure_text("DatabaseUnwritable") == "genrebot's storage could not be written (its owner's to fix)"


def test_a_bug_has_no_reply_of_its_own() -> None:
    """Anything untyped gets None, so the tree apologises with an error id instead."""
    assert error_message(KeyError("token")) is None


def test_unknown_genres_are_escaped_and_close_names_suggested() -> None:
    """A hostile genre name can neither format nor ping; the closest names follow, not the whole list."""
    message = error_message(UnknownGenre(["@everyone **x**"], ["Rock", "R&B & Soul"]))
    assert message == ("I don't know the genre @\u200beveryone \\*\\*x\\*\\*. Did you mean Rock, R&B & Soul? "
                       "`/genres` lists them all.")


def test_an_unknown_genre_reply_fits_a_message_however_long_the_names() -> None:
    """Thirty 5,000-character names still make a reply under Discord's 2,000 characters."""
    message = error_message(UnknownGenre(["x" * 5000] * 30, ["Rock"] * 5))
    assert message is not None and len(message) <= 2000


def test_a_long_unknown_genre_is_shortened_with_an_ellipsis_never_cut_mid_escape() -> None:
    """A 420-character name full of underscores, wherever the cut falls: the reply shows its start and
    '…', every underscore as typed, no stray backslash, and nothing formatted but `/genres`."""
    for pad in range(16):
        typed = "x" * pad + " ".join(["Nu_Metal_Core"] * 30)
        message = error_message(UnknownGenre([typed], ["Nu-Metal"])) or ""
        shown = shown_text(message)
        named = shown.removeprefix("I don't know the genre ").partition(". Did you mean Nu-Metal?")[0]
        assert named.endswith("…") and typed.startswith(named[:-1]), (pad, message)
        assert "\\" not in shown and live_markdown(message) == ["`", "`"], (pad, message)
        assert len(message) <= 2000


def test_an_unknown_time_zone_is_quoted_as_typed_not_formatted() -> None:
    """'**Mars**/`Olympus`' is refused with its asterisks and backticks shown, nothing bold or code."""
    with pytest.raises(InvalidSchedule) as refused:
        parse_timezone("**Mars**/`Olympus`")
    message = error_message(refused.value) or ""
    assert shown_text(message) == (
        "unknown time zone '**Mars**/`Olympus`': use an IANA name like Europe/Berlin or America/New_York")
    assert live_markdown(message) == ["_"]  # New_York's, in the advice: a lone "_" formats nothing


def test_an_unknown_weekday_is_quoted_as_typed_not_formatted() -> None:
    """'__Caturday__' is refused with its underscores shown, not underlined."""
    with pytest.raises(InvalidSchedule) as refused:
        parse_weekday("__Caturday__")
    message = error_message(refused.value) or ""
    assert shown_text(message) == (
        "unknown weekday '__Caturday__': use one of Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday")
    assert live_markdown(message) == []


@pytest.mark.parametrize("parse, kind", [(parse_timezone, "time zone"), (parse_weekday, "weekday")])
def test_a_long_unknown_schedule_value_is_shortened_with_an_ellipsis_never_cut_mid_escape(
    parse: Callable[[str], object], kind: str,
) -> None:
    """3,000 characters of markdown, wherever the cut falls: the reply quotes their start and '…',
    no stray backslash, nothing formatted, in a short reply."""
    for pad in range(4):
        typed = "x" * pad + "**Mars_Olympus**" * 190
        with pytest.raises(InvalidSchedule) as refused:
            parse(typed)
        message = error_message(refused.value) or ""
        shown = shown_text(message)
        quoted = shown.removeprefix(f"unknown {kind} '").partition("': use ")[0]
        assert quoted.endswith("…") and typed.startswith(quoted[:-1]) and len(quoted) > 10, (pad, message)
        assert "\\" not in shown and not set(live_markdown(message)) - {"_"}, (pad, message)
        assert len(message) <= 200, (pad, message)


def test_the_rate_limit_reply_says_how_long_to_wait() -> None:
    """The flood reply names the seconds left."""
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(15, 30), 12.4)
    assert error_message(cooldown) == "Easy there! Please wait 12 seconds before the next command."


def test_a_lapsed_owner_premium_is_explained_not_something_went_wrong() -> None:
    """The Premium refusal names what the bot owner must fix, in its own reply."""
    message = error_message(OwnerPremiumRequired()) or ""
    assert "Premium" in message and "bot owner" in message and "went wrong" not in message


def test_a_quota_stop_says_when_without_calling_the_sort_paused() -> None:
    """A /sort stopped by the quota does not resume by itself, so the reply says when to run it again."""
    message = error_message(SpotifyQuotaExceeded(3600)) or ""
    assert "<t:" in message and "/sort again" in message and "paused" not in message


async def _outside_the_choices(typed: str) -> app_commands.TransformerError:
    """The error discord.py raises when an option declared like /schedule set's weekday (choices,
    read as a Choice) receives a value not among them."""

    @app_commands.command(name="day", description="a day")
    @app_commands.choices(weekday=[app_commands.Choice(name="Monday", value="monday")])
    async def day(interaction: discord.Interaction, weekday: app_commands.Choice[str]) -> None: ...

    with pytest.raises(app_commands.TransformerError) as refused:
        await day._params["weekday"].transform(None, typed)  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize("typed", [
    pytest.param("`x` **someday** @everyone", id="short"),
    pytest.param("`x` **someday** @everyone [a](https://x.test) " * 100, id="3,900-characters"),
])
async def test_a_value_outside_the_choices_is_quoted_as_typed_not_formatted(typed: str) -> None:
    """Discord never delivers one (its client offers only the choices), but should one arrive the reply
    quotes it escaped, shortened with '…' when long, and pings nobody."""
    message = error_message(await _outside_the_choices(typed)) or ""
    quoted = shown_text(message).removeprefix("I couldn't understand '").partition("' for that option")[0]
    assert quoted == typed or (quoted.endswith("…") and typed.startswith(quoted[:-1]) and len(quoted) > 10)
    assert live_markdown(message) == [] and live_mentions(message) == [] and "\\" not in shown_text(message)
    assert len(message) <= 200


def test_a_reply_refused_for_missing_permissions_names_them_and_the_way_out() -> None:
    """Only the permissions genrebot lacks are named; the member is told whom to ask and what else to try."""
    lacking = discord.Permissions(embed_links=False, attach_files=True)
    assert missing_reply_permissions(lacking) == ["Embed Links"]
    text = missing_permissions_message(missing_reply_permissions(lacking))
    assert "**Embed Links**" in text and "Attach Files" not in text and "admin" in text and "another channel" in text


def test_a_link_lacking_a_permission_names_it_as_spotify_does_and_says_to_approve_everything() -> None:
    """A link Spotify granted fewer permissions than genrebot needs: the reply names the permission in
    the words of Spotify's consent page and says to /link again approving everything; it never says
    links expire. Unnamed (Spotify only said "Insufficient client scope"), it still says so."""
    named = error_message(ScopesMissing(["user-library-read"]))
    assert named is not None and "“Access your saved content”" in named
    unnamed = error_message(ScopesMissing())
    for message in (named, unnamed):
        assert message is not None and "/link" in message and "approve every permission" in message
        assert "expire" not in message and "()" not in message


def test_every_scope_genrebot_asks_for_has_spotifys_words_for_it() -> None:
    """A scope added to SCOPES without its consent-page words would reach members as a bare scope id."""
    assert set(SCOPES) <= set(SCOPE_DESCRIPTIONS)
