"""What a sort tells the member: /sort's progress and reply, and the weekly refresh's DM.

The reply lists each playlist with its link, those an earlier sort made that it emptied, and counts
what was unsorted, not chosen, skipped and by artists the model never met; the weekly DM is the
same embed headed by a one-line summary. A /sort whose reply expired goes by DM with
`LATE_RESULT_NOTE`, one whose reply Discord refused (a channel without Attach Files or Embed
Links) with `NOT_SHOWN_NOTE` and the reply's text `result_elsewhere_text`, and `dm_status_note` is
what /status says became of a run's DM.
"""

from __future__ import annotations

import discord

from bot.presenters.limits import (
    CHART_NAME,
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    SPOTIFY_GREEN,
    TITLE_LIMIT,
    fit_lines,
    safe,
    source_title,
)
from bot.services.genre_names import genre_label
from bot.services.known_artists import KnownArtists
from bot.services.sorting import PlaylistOutcome, SortProgress, SortReport
from bot.spotify.client import SKIPPED_EPISODE, SKIPPED_LOCAL, SKIPPED_UNAVAILABLE, SKIPPED_UNLISTED
from music import SortSource
from storage.records import Run


def progress_text(progress: SortProgress, source: SortSource | None = None) -> str:
    if progress.stage == "waiting":
        return "⏳ Waiting for other members' sorts to finish; yours starts as soon as one does…"
    if progress.stage == "reading":
        songs = "liked songs" if source is None or source.is_liked_songs else f"songs of {source_title(source)}"
        if progress.total:
            return f"📥 Read {progress.done:,} of {progress.total:,} {songs}…"
        return f"📥 Reading your {songs}…"
    if progress.stage == "classifying":
        return f"🧠 Classifying {progress.total:,} songs…" if progress.total else "🧠 Classified."
    if progress.stage == "writing":
        return f"✍️ Writing playlists ({progress.done} of {progress.total})…"
    return "✅ Done."


def playlist_lines(report: SortReport) -> list[str]:
    lines = []
    for outcome in report.playlists:
        noun = "song" if outcome.count == 1 else "songs"
        extra = " (new)" if outcome.created else ""
        lines.append(f"{_linked_name(outcome)} — {outcome.count:,} {noun}{extra}")
    return lines


def _linked_name(outcome: PlaylistOutcome) -> str:
    name = safe(outcome.name).replace("[", "(").replace("]", ")")
    return f"[{name}]({outcome.url})" if outcome.url else f"**{name}**"


EMPTIED_NOTE = "No songs this time (each one's description says why); their links keep working:"


def emptied_text(report: SortReport) -> str | None:
    """The playlists of an earlier sort this one emptied (their genre fell short of the minimum),
    or None: a playlist that lost all its songs is news the member should not find by surprise."""
    if not report.emptied:
        return None
    return fit_lines([EMPTIED_NOTE, *(_linked_name(o) for o in report.emptied)], FIELD_VALUE_LIMIT)


def description_room(report: SortReport) -> int:
    """What the list of playlists may take: the emptied ones' field comes out of it, so a reply with
    every other field at its longest still fits Discord's 6,000 characters an embed."""
    return DESCRIPTION_LIMIT - len(emptied_text(report) or "")


_SKIP_REASONS = {
    SKIPPED_LOCAL: ("local file", "local files", "not on Spotify"),
    SKIPPED_EPISODE: ("podcast episode", "podcast episodes", "not songs"),
    SKIPPED_UNAVAILABLE: ("unavailable song", "unavailable songs", "no longer on Spotify"),
    SKIPPED_UNLISTED: ("song Spotify counts but did not list", "songs Spotify counts but did not list", ""),
}


def skipped_text(report: SortReport) -> str | None:
    """'1 local file (not on Spotify), 2 podcast episodes (not songs)', or None if nothing was skipped."""
    parts = []
    for reason, count in sorted(report.skipped.items(), key=lambda item: -item[1]):
        one, many, why = _SKIP_REASONS.get(reason, (reason, reason, ""))
        parts.append(f"{count:,} {one if count == 1 else many}" + (f" ({why})" if why else ""))
    if report.duplicates:
        parts.append(f"{report.duplicates:,} repeated {'entry' if report.duplicates == 1 else 'entries'} (sorted once)")
    return ", ".join(parts) or None


def known_artists_text(known: KnownArtists) -> str | None:
    """What a member should know when many of their songs are by artists the model never met (it
    places those less surely), or None when nearly all are known (`KnownArtists.worth_telling`)."""
    if not known.worth_telling:
        return None
    one = "so I went by its title and album, and any other songs of yours by that artist"
    many = "so I went by their titles and albums, and any other songs of yours by those artists"
    if known.known == 0:
        if known.songs == 1:
            return f"This song is by an artist new to me, {one}: it may be in the wrong playlist."
        return (f"All {known.songs:,} of these songs are by artists new to me, {many}: "
                "some may be in the wrong playlist.")
    if known.unknown == 1:
        other = f"The other one is by an artist new to me, {one}: it's"
    else:
        other = f"The other {known.unknown:,} are by artists new to me, {many}: they're"
    return (f"I know the artists of {known.known:,} of these {known.songs:,} songs. "
            f"{other} the likeliest to be in the wrong playlist.")


def sort_title(report: SortReport) -> str:
    dry = " (dry run: nothing written)" if report.dry_run else ""
    if report.source.is_liked_songs:
        return f"Sorted {report.total_songs:,} liked songs{dry}"
    return f"Sorted {report.total_songs:,} songs from {source_title(report.source)}{dry}"


NO_PLAYLIST = "No genre had enough songs for a playlist."


def no_playlist_text(report: SortReport) -> str:
    """Why a sort filled no playlist: nothing to sort (the Skipped field says what there was), none of
    the songs in the genres picked, or no genre with enough songs."""
    if report.total_songs == 0:
        if report.source.is_liked_songs:
            return "You have no liked songs I can sort yet."
        return f"{source_title(report.source)} has no songs I can sort."
    if report.not_chosen >= report.total_songs:
        return "None of these songs is in the genres you picked."
    return NO_PLAYLIST


def sort_embed(report: SortReport, *, title: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=(title or sort_title(report))[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    lines = playlist_lines(report) or [no_playlist_text(report)]
    embed.description = fit_lines(lines, description_room(report))
    embed.add_field(name="Unsorted", value=f"{report.unsorted:,} songs (low confidence or small genre)")
    if report.not_chosen:
        embed.add_field(name="Not in your chosen genres", value=f"{report.not_chosen:,} songs")
    embed.add_field(name="New since last time", value=f"{report.new_songs:,}")
    emptied = emptied_text(report)
    if emptied:
        embed.add_field(name="Emptied", value=emptied, inline=False)
    skipped = skipped_text(report)
    if skipped:
        embed.add_field(name="Skipped", value=skipped[:FIELD_VALUE_LIMIT], inline=False)
    if report.collaborative_playlists_hidden:
        embed.add_field(
            name="Shared playlists",
            value="Run /link again to also see the playlists you collaborate on as sources.",
            inline=False,
        )
    known_artists = known_artists_text(report.known_artists)
    if known_artists:
        embed.add_field(name="Artists new to me", value=known_artists[:FIELD_VALUE_LIMIT], inline=False)
    if report.chart_png is not None:
        embed.set_image(url=f"attachment://{CHART_NAME}")
    embed.set_footer(text=f"model {report.model_version} · {report.seconds:.1f}s")
    return embed


def weekly_summary(report: SortReport) -> str:
    """'14 new songs: +6 Rock, +8 Latin' (or a quiet-week line)."""
    if report.new_songs == 0:
        news = "No new liked songs" if report.source.is_liked_songs else f"Nothing new in {source_title(report.source)}"
        if not report.playlists:  # no genre reached the minimum: there is nothing to be up to date
            return f"{news} this week."
        playlists = "playlist is" if len(report.playlists) == 1 else f"{len(report.playlists)} playlists are"
        return f"{news} this week; your {playlists} up to date."
    parts = [
        f"+{o.new_count} {o.label or genre_label(o.key)}"
        for o in sorted(report.playlists, key=lambda o: (-o.new_count, o.key))
        if o.new_count
    ]
    noun = "song" if report.new_songs == 1 else "songs"
    line = f"{report.new_songs} new {noun}"
    return f"{line}: {', '.join(parts)}" if parts else f"{line}, none confident enough to sort"


def weekly_embed(report: SortReport) -> discord.Embed:
    title = "Your weekly genrebot refresh"
    if not report.source.is_liked_songs:
        title += f": {source_title(report.source)}"
    embed = sort_embed(report, title=title)
    lines = playlist_lines(report) or [no_playlist_text(report)]
    embed.description = fit_lines([weekly_summary(report), "", *lines], description_room(report))
    return embed


LATE_RESULT_NOTE = "Your /sort finished after its reply in the server had expired, so here is the result."
SORT_STOPPED_TEXT = (
    "⏹️ The bot is stopping (a restart or an update), so your sort stopped before it finished. "
    "Run /sort again once the bot is back: it carries on from what your Spotify holds."
)
NOT_SHOWN_NOTE = "Your /sort finished, but Discord would not show the result in its reply, so here it is."


def result_elsewhere_text(report: SortReport, dm_status: str, missing: list[str]) -> str:
    """The /sort reply when Discord refused the result in it: what was done, why it is not here,
    and where it went (text only, which every channel takes)."""
    why = (f"genrebot lacks {' and '.join(missing)} in this channel" if missing
           else "Discord would not take it")
    where = ("I sent them to you by DM." if dm_status == "sent"
             else "I couldn't DM you either; /status lists this run.")
    return f"{sort_title(report)}. I couldn't show the details here ({why}): {where}"


def dm_status_note(run: Run) -> str:
    """What became of a run's DM (a weekly summary, the DM saying why a weekly run failed, or a
    /sort result its reply could not show)."""
    if run.trigger.value != "schedule":
        dm = "result DM"
        if run.dm_status == "sent":
            return " · result sent by DM (the reply could not show it)"
    else:
        dm = "summary DM" if run.status.value == "succeeded" else "DM"
        if run.dm_status == "sent":
            return ""
    if run.dm_status == "closed":
        return f" · {dm} not delivered (your DMs are closed)"
    if run.dm_status == "left":
        return f" · {dm} not delivered (you were in no server with genrebot then)"
    if run.dm_status == "failed":
        return f" · {dm} failed"
    if run.dm_status == "unconfirmed":  # its answer was lost; sent again it could arrive twice
        return f" · {dm} not confirmed by Discord"
    return ""
