"""A member's account: the `/link` replies (linked, or why not) and the DM after every link,
`/status`, and the weekly schedule's texts (when it runs, what it sorts, which sources it could
not read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import discord

from bot.presenters.errors import error_message, run_failure_text
from bot.presenters.limits import (
    CONTENT_LIMIT,
    FIELD_VALUE_LIMIT,
    SPOTIFY_GREEN,
    discord_relative_time,
    discord_time,
    fit_lines,
    safe,
    safe_within,
    source_title,
)
from bot.presenters.sort_reports import dm_status_note
from bot.services.errors import LinkFailed
from bot.services.linking import LinkedAccount
from bot.services.weekly_refresh import TRANSIENT_FAILURES, RefreshStopped, SourceFailure
from bot.services.weekly_retries import RetriesOver
from bot.services.weekly_schedule import WEEKDAYS
from bot.spotify.errors import NeedsRelink
from music import SortSource
from storage.records import Run, Schedule, User

# Spotify documents no maximum length for a display name or an account id: each is shown shortened
# (with '…') so no reply, DM or field can outgrow Discord's limits, however long Spotify's text.
SPOTIFY_NAME_LIMIT = 100
SPOTIFY_ID_LIMIT = 64


def _spotify_name(display_name: str) -> str:
    """A Spotify display name for a message: escaped, one line, at most SPOTIFY_NAME_LIMIT characters."""
    return safe_within(display_name, SPOTIFY_NAME_LIMIT)


def status_embed(user: User | None, runs: Iterable[Run], schedule: Schedule | None) -> discord.Embed:
    embed = discord.Embed(title="Your genrebot status", colour=SPOTIFY_GREEN)
    if user is None or user.status.value == "unlinked":  # /unlink forgot the account's name
        embed.add_field(name="Spotify", value="Not linked — run /link", inline=False)
    else:
        state = {"linked": "Linked", "needs_relink": "Needs relink — run /link"}
        embed.add_field(
            name="Spotify",
            value=f"{state.get(user.status.value, user.status.value)} as {_spotify_name(user.display_name)}",
            inline=False,
        )
    lines = []
    for run in runs:
        when = discord_relative_time(run.started_at)
        line = f"{when} · {run.trigger.value} · **{_run_status(run, schedule)}**"
        if run.status.value == "succeeded":
            line += f" · {sum(run.counts.values()):,} songs in {len(run.counts)} playlists"
        if run.error:
            line += f" · {safe_within(run_failure_text(run.error), 120)}"
        if run.error_id:  # a bug's: the id the member was given, and the log has the traceback under
            line += f" · error id `{safe_within(run.error_id, 16)}`"
        if run.status.value == "deferred" and schedule is not None and schedule.enabled and schedule.next_run:
            line += f" · next try {discord_relative_time(schedule.next_run)}"
        line += dm_status_note(run)
        lines.append(line)
    embed.add_field(name="Recent runs", value=fit_lines(lines, FIELD_VALUE_LIMIT) or "None yet", inline=False)
    embed.add_field(name="Weekly refresh", value=schedule_text(schedule), inline=False)
    return embed


def _run_status(run: Run, schedule: Schedule | None) -> str:
    """A run's status in a word; a weekly refresh's deferred try (the one being retried, as
    `RunRepository.recent_for_member` lists it) is 'retrying', or 'not retried' once the schedule is off."""
    if run.status.value != "deferred":
        return run.status.value
    return "retrying" if schedule is not None and schedule.enabled else "not retried"


def link_prompt(display_name: str, username: str) -> str:
    """The /link reply: what the button opens and what to check there."""
    return (
        f"Open genrebot's link page: it should name you (**{safe(display_name)}**, @{safe(username)}); "
        "then approve on Spotify's page. The link works once, for 10 minutes: don't share it, "
        "anyone who uses it links *their* Spotify to *your* Discord account."
    )


def linked_reply(account: LinkedAccount) -> str:
    """The /link reply once Spotify sent the member back."""
    return (
        f"✅ Linked to the Spotify account **{_spotify_name(account.display_name)}** "
        f"(`{safe_within(account.spotify_id, SPOTIFY_ID_LIMIT)}`). "
        "Try /sort!"
    )


def link_failed_reply(failure: LinkFailed) -> str:
    """The /link reply (or DM) when the link flow refused: why, and what to do next."""
    return f"❌ {error_message(failure)}"


def linked_dm(account: LinkedAccount) -> str:
    """Sent after every link, so a link the member did not make cannot go unnoticed."""
    return (
        f"🔗 Your Discord account is now linked to the Spotify account **{_spotify_name(account.display_name)}** "
        f"(Spotify user id `{safe_within(account.spotify_id, SPOTIFY_ID_LIMIT)}`).\n"
        "Not you, or not the account you meant? Run **/unlink**: it removes the link and what "
        "genrebot stored about it."
    )


def schedule_text(schedule: Schedule | None, sources: Sequence[SortSource] = ()) -> str:
    if schedule is None or not schedule.enabled:
        return "Off — turn it on with /schedule set"
    text = f"{WEEKDAYS[schedule.weekday].title()}s at {schedule.hour:02d}:00 ({safe(schedule.timezone)})"
    if schedule.next_run:
        text += f", next {discord_relative_time(schedule.next_run)}"
    if sources:
        text += f". It sorts {sources_text(sources)}"
    return text


def sources_text(sources: Sequence[SortSource]) -> str:
    """'Liked Songs, Road Trip and Party'."""
    names = [source_title(source, 60) for source in sources]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def refresh_failures_text(failures: Sequence[SourceFailure]) -> str:
    """One DM line per source the weekly refresh could not read."""
    lines = ["Weekly refresh: I couldn't sort every source you chose."]
    for failure in failures:
        reason = error_message(failure.error) or "Spotify refused it."
        lines.append(f"• {source_title(failure.source)}: {reason}")
    lines.append("Remove a source with /schedule remove.")
    return fit_lines(lines, CONTENT_LIMIT)


def refresh_stopped_text(stopped: RefreshStopped, error_id: str | None = None, *, after_summaries: bool = True) -> str:
    """The DM line after the summaries (`after_summaries`) or the unreadable sources of a weekly
    refresh a failure stopped part-way; `error_id` is the one the log gives a bug's traceback under."""
    if stopped.retries is not None:
        reason = _retries_over_text(stopped.retries)
    elif isinstance(stopped.error, TRANSIENT_FAILURES):
        reason = "Spotify kept failing on it."
    else:
        on_my_side = f"something failed on my side (error id `{error_id}`)." if error_id else "something failed on my side."
        reason = error_message(stopped.error) or on_my_side
    before = " (the summaries above are of what I sorted before)" if after_summaries else ""
    # A broken link: no refresh is due until the member links again (`ScheduleRepository.due`).
    again = "at the first weekly refresh after you link again" if isinstance(stopped.error, NeedsRelink) else "next week"
    return (
        f"Weekly refresh: I stopped at {source_title(stopped.source)}{before}: {reason} "
        f"I'll sort it again {again}."
    )[:CONTENT_LIMIT]


def _retries_over_text(retries: RetriesOver) -> str:
    """What ended the retries of a refresh Spotify held back, as it happened: a Retry-After reaching
    past the time retries end (after one try or many), the next weekly time too close for another
    try, or failures through the retries."""
    if retries.asked_to_wait:
        # Not Spotify's own figure: a Retry-After past MAX_RATE_LIMIT_WAIT_S is read as that long.
        return (
            "Spotify asked genrebot to wait longer than I keep retrying a weekly refresh "
            f"(until {discord_time(retries.window_ends)})."
        )
    if retries.tried_once:
        return "Spotify failed on it, and your next weekly refresh is too close to try again before it."
    hours = max(1, round((retries.last_try - retries.since) / timedelta(hours=1)))
    return f"Spotify kept failing on it for {hours} hour{'s' if hours != 1 else ''} of retries."
