"""Turning service results, and failures, into Discord messages that respect Discord's limits.

Everything shown to members passes through here: embeds for each command, the weekly summary,
and `error_message`, the one map from an expected failure to the reply a member gets. Text from
outside (genre names from a model's taxonomy, Spotify display names) is escaped so it can
neither format nor ping, and long lists are cut at whole lines with a "…and N more" note,
never mid-link.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import discord
from discord import app_commands

from bot.services.errors import ServiceError
from bot.services.genre_names import UnknownGenre, genre_label, shorten
from bot.services.known_artists import KnownArtists
from bot.services.linking import LinkedAccount
from bot.services.sorting import SortProgress, SortReport
from bot.services.weekly_refresh import WEEKDAYS, InvalidSchedule, SourceFailure
from bot.spotify.client import SKIPPED_EPISODE, SKIPPED_LOCAL, SKIPPED_UNAVAILABLE
from bot.spotify.errors import (
    LibraryChangedDuringRead,
    NeedsRelink,
    OwnerPremiumRequired,
    PlaylistNotFound,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)
from classifier import Taxonomy
from classifier.taxonomy import lookup_key
from music import SortSource
from storage.records import MemberGenreCount, Run, Schedule, User

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
FIELD_NAME_LIMIT = 256
FIELDS_LIMIT = 25
EMBED_TOTAL_LIMIT = 6000  # title, description, field names and values, footer and author together
TITLE_LIMIT = 256
CHART_NAME = "genre-mix.png"
SPOTIFY_GREEN = discord.Colour(0x1DB954)


def safe(text: str) -> str:
    """Escape markdown and neutralise @mentions in text that came from outside."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def fit_lines(lines: Sequence[str], limit: int, more: str = "…and {n} more", sep: str = "\n") -> str:
    """Join whole lines (or items, with another `sep`) in at most `limit` characters, the ones
    that do not fit summarised as `more`."""
    whole = sep.join(lines)
    if len(whole) <= limit:
        return whole
    kept: list[str] = []
    length = 0  # of sep.join(kept)
    for index, line in enumerate(lines):
        longer = length + (len(sep) if kept else 0) + len(line)
        if longer + len(sep) + len(more.format(n=len(lines) - index - 1)) > limit:
            break
        kept.append(line)
        length = longer
    return sep.join([*kept, more.format(n=len(lines) - len(kept))])[:limit]


def chart_file(png: bytes, name: str = CHART_NAME) -> discord.File:
    return discord.File(io.BytesIO(png), filename=name)


def source_title(source: SortSource, limit: int = 80) -> str:
    """A source's name for a message: escaped, one line, shortened."""
    return safe(shorten(source.name, limit))


def progress_text(progress: SortProgress, source: SortSource | None = None) -> str:
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
        name = safe(outcome.name).replace("[", "(").replace("]", ")")
        noun = "song" if outcome.count == 1 else "songs"
        label = f"[{name}]({outcome.url})" if outcome.url else f"**{name}**"
        extra = " (new)" if outcome.created else ""
        lines.append(f"{label} — {outcome.count:,} {noun}{extra}")
    return lines


_SKIP_REASONS = {
    SKIPPED_LOCAL: ("local file", "local files", "not on Spotify"),
    SKIPPED_EPISODE: ("podcast episode", "podcast episodes", "not songs"),
    SKIPPED_UNAVAILABLE: ("unavailable song", "unavailable songs", "no longer on Spotify"),
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
    one = "so I went by its title, album and year, and any other songs of yours by that artist"
    many = "so I went by their titles, albums and years, and any other songs of yours by those artists"
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


def sort_embed(report: SortReport, *, title: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=(title or sort_title(report))[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    lines = playlist_lines(report) or ["No genre had enough songs for a playlist."]
    embed.description = fit_lines(lines, DESCRIPTION_LIMIT)
    embed.add_field(name="Unsorted", value=f"{report.unsorted:,} songs (low confidence or small genre)")
    if report.not_chosen:
        embed.add_field(name="Not in your chosen genres", value=f"{report.not_chosen:,} songs")
    embed.add_field(name="New since last time", value=f"{report.new_songs:,}")
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
    embed.set_image(url=f"attachment://{CHART_NAME}")
    embed.set_footer(text=f"model {report.model_version} · {report.seconds:.1f}s")
    return embed


def weekly_summary(report: SortReport) -> str:
    """'14 new songs: +6 Rock, +8 Latin' (or a quiet-week line)."""
    if report.new_songs == 0:
        news = "No new liked songs" if report.source.is_liked_songs else f"Nothing new in {source_title(report.source)}"
        return f"{news} this week; your {len(report.playlists)} playlists are up to date."
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
    embed.description = fit_lines([weekly_summary(report), "", *playlist_lines(report)], DESCRIPTION_LIMIT)
    return embed


def genres_embed(taxonomy: Taxonomy, version: str) -> discord.Embed:
    """The families, each with its genres, within Discord's embed limits however big the
    taxonomy: a field per family (at most 25), each field's genres cut to its share of the
    6,000 characters an embed may hold, with '…and N more' and a pointer to `/genres family:`."""
    embed = discord.Embed(
        title=f"Genres I know: {len(taxonomy.families)} families, {len(taxonomy.genres)} genres"[:TITLE_LIMIT],
        description="`/sort` makes a playlist per family; `level:genre` one per genre. "
        "Open a family with `/genres family:` to see its genres and their other names.",
        colour=SPOTIFY_GREEN,
    )
    embed.set_footer(text=f"model {version}"[:TITLE_LIMIT])
    families = list(taxonomy.families)
    shown = families if len(families) <= FIELDS_LIMIT else families[: FIELDS_LIMIT - 1]
    rest = families[len(shown) :]
    fields = [(safe(taxonomy.label(f, "family"))[:FIELD_NAME_LIMIT], [safe(taxonomy.label(g, "genre")) for g in taxonomy[f]])
              for f in shown]
    if rest:
        fields.append((f"{len(rest)} more families", [safe(taxonomy.label(f, "family")) for f in rest]))
    budget = EMBED_TOTAL_LIMIT - len(embed) - sum(len(name) for name, _ in fields)
    limits = share_out(budget, [len(", ".join(items)) for _, items in fields], FIELD_VALUE_LIMIT)
    for (name, items), limit in zip(fields, limits, strict=True):
        embed.add_field(name=name, value=fit_lines(items, limit, sep=", "), inline=False)
    return embed


def share_out(budget: int, needs: Sequence[int], cap: int) -> list[int]:
    """Characters for each of several texts sharing `budget`: short ones get all they need, the
    long ones split what is left equally; none more than `cap`."""
    limits = [0] * len(needs)
    left = budget
    for done, index in enumerate(sorted(range(len(needs)), key=lambda i: needs[i])):
        fair = left // (len(needs) - done)
        limits[index] = min(needs[index], fair, cap)
        left -= limits[index]
    return limits


def family_embed(taxonomy: Taxonomy, family: str, version: str) -> discord.Embed:
    """One family's genres, each with the other names it answers to (what `/sort genres:` takes)."""
    aliases: dict[str, list[str]] = {}
    for alias, genre in taxonomy.aliases.items():
        if lookup_key(alias) not in (lookup_key(genre), lookup_key(taxonomy.label(genre, "genre"))):
            aliases.setdefault(genre, []).append(alias)
    lines = []
    for genre in taxonomy[family]:
        line = f"**{safe(taxonomy.label(genre, 'genre'))}**"
        if aliases.get(genre):
            line += " — also " + ", ".join(safe(a) for a in aliases[genre][:4])
        lines.append(line[:300])
    count = len(taxonomy[family])
    embed = discord.Embed(
        title=f"{taxonomy.label(family, 'family')}: {count} genre{'s' if count != 1 else ''}"[:TITLE_LIMIT],
        description=fit_lines(lines, DESCRIPTION_LIMIT),
        colour=SPOTIFY_GREEN,
    )
    embed.set_footer(text=f"/sort genres:<a genre> level:genre makes one playlist per genre · model {version}"[
        :TITLE_LIMIT])
    return embed


def mix_embed(title: str, mix: Mapping[str, int]) -> discord.Embed:
    """Songs per family or genre, by label, with each one's share."""
    total = sum(mix.values()) or 1
    lines = [f"**{safe(label)}** — {n:,} ({n / total:.0%})" for label, n in mix.items()]
    embed = discord.Embed(title=title[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    embed.description = fit_lines(lines or ["Nothing classified yet: run /sort first."], DESCRIPTION_LIMIT)
    if lines:
        embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def top_members_embed(label: str, rows: Sequence[MemberGenreCount],
                      genres_here: Mapping[str, int] | None = None) -> discord.Embed:
    """A family's or a genre's top fans on this server, by songs and by share; for a family,
    also how its songs here split into its genres (the genre view)."""
    embed = discord.Embed(title=f"Top {safe(label)} fans here"[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    by_count = [f"{i}. <@{r.discord_id}> — {r.count:,} songs" for i, r in enumerate(rows, 1)]
    by_share = sorted(rows, key=lambda r: -r.share)
    share_lines = [f"{i}. <@{r.discord_id}> — {r.share:.0%}" for i, r in enumerate(by_share, 1)]
    embed.add_field(name="By songs", value=fit_lines(by_count, FIELD_VALUE_LIMIT) or "Nobody yet", inline=True)
    embed.add_field(name="By share", value=fit_lines(share_lines, FIELD_VALUE_LIMIT) or "Nobody yet", inline=True)
    if genres_here:
        lines = [f"{safe(name)} — {n:,}" for name, n in genres_here.items()]
        embed.add_field(name="Its genres here", value=fit_lines(lines, FIELD_VALUE_LIMIT), inline=False)
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def status_embed(user: User | None, runs: Iterable[Run], schedule: Schedule | None) -> discord.Embed:
    embed = discord.Embed(title="Your genrebot status", colour=SPOTIFY_GREEN)
    if user is None:
        embed.add_field(name="Spotify", value="Not linked — run /link", inline=False)
    else:
        state = {"linked": "Linked", "needs_relink": "Needs relink — run /link", "unlinked": "Not linked"}
        embed.add_field(
            name="Spotify",
            value=f"{state.get(user.status.value, user.status.value)} as {safe(user.display_name)}",
            inline=False,
        )
    lines = []
    for run in runs:
        when = discord_relative_time(run.started_at)
        line = f"{when} · {run.trigger.value} · **{run.status.value}**"
        if run.status.value == "succeeded":
            line += f" · {sum(run.counts.values()):,} songs in {len(run.counts)} playlists"
        if run.error:
            line += f" · {safe(run.error)[:120]}"
        line += dm_status_note(run)
        lines.append(line)
    embed.add_field(name="Recent runs", value=fit_lines(lines, FIELD_VALUE_LIMIT) or "None yet", inline=False)
    embed.add_field(name="Weekly refresh", value=schedule_text(schedule), inline=False)
    return embed


LATE_RESULT_NOTE = "Your /sort finished after its reply in the server had expired, so here is the result."


def dm_status_note(run: Run) -> str:
    """What became of a run's DM (a weekly summary, or a /sort result whose reply had expired)."""
    what = "summary" if run.trigger.value == "schedule" else "result"
    if run.dm_status == "sent":
        return "" if what == "summary" else " · result sent by DM (the reply had expired)"
    if run.dm_status == "closed":
        return f" · {what} DM not delivered (your DMs are closed)"
    if run.dm_status == "left":
        return f" · {what} DM not delivered (you were in no server with genrebot then)"
    if run.dm_status == "failed":
        return f" · {what} DM failed"
    return ""


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
        f"✅ Linked to the Spotify account **{safe(account.display_name)}** (`{safe(account.spotify_id)}`). "
        "Try /sort!"
    )


def linked_dm(account: LinkedAccount) -> str:
    """Sent after every link, so a link the member did not make cannot go unnoticed."""
    return (
        f"🔗 Your Discord account is now linked to the Spotify account **{safe(account.display_name)}** "
        f"(Spotify user id `{safe(account.spotify_id)}`).\n"
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


def discord_relative_time(moment: datetime) -> str:
    """Discord's timestamp markup ('in 3 days'), shown in each member's own time zone."""
    return f"<t:{int(moment.timestamp())}:R>"


def error_message(error: BaseException) -> str | None:
    """The reply a member gets for an expected failure, or None for a bug."""
    if isinstance(error, UnknownGenre):
        unknown = safe(", ".join(error.unknown))[:300]
        noun = "genre" if len(error.unknown) == 1 else "genres"
        close = f" Did you mean {', '.join(safe(s[:100]) for s in error.suggestions[:5])}?" if error.suggestions else ""
        return f"I don't know the {noun} {unknown}.{close} `/genres` lists them all."
    if isinstance(error, ServiceError | InvalidSchedule):
        return str(error)
    if isinstance(error, PlaylistNotReadable):
        name = f"“{safe(shorten(error.name, 80))}”" if error.name else "That playlist"
        owner = safe(shorten(error.owner, 60)) if error.owner else "someone else"
        return (
            f"{name} belongs to {owner}. Spotify lets genrebot read only playlists you own or collaborate on: "
            f"make your own copy of it in Spotify (or ask {owner} to add you as a collaborator), then sort that."
        )
    if isinstance(error, PlaylistNotFound):
        return (
            "Spotify has no playlist of yours at that link: it may have been deleted. Playlists Spotify makes "
            "(Discover Weekly, Daily Mix…) can't be read by apps: copy its songs into a playlist of your own."
        )
    if isinstance(error, NeedsRelink):
        return "Spotify needs you to link your account again (links expire after a while). Run /link."
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
        name = f"“{safe(shorten(error.name, 80))}”"
        if error.restored:
            return (
                f"Spotify failed partway through updating {name}, so I put its previous songs back. "
                "Your library was not touched; run /sort again in a few minutes."
            )
        return (
            f"Spotify failed partway through updating {name}: until the next sort it may be missing some "
            "songs or still hold some that moved to another playlist. Your library was not touched, and the next "
            "/sort (or weekly refresh) finishes it from what Spotify holds."
        )
    if isinstance(error, SpotifyRateLimited):
        return f"Spotify asked us to slow down. Try again in {max(1, round(error.retry_after_s))} seconds."
    if isinstance(error, SpotifyUnavailable):
        return "Spotify isn't answering right now. Nothing was changed; try again in a few minutes."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! Please wait {error.retry_after:.0f} seconds before the next command."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't understand `{error.value}` for that option."
    return None


def unexpected_error_message(error_id: str) -> str:
    return f"Sorry, something went wrong on my side (error id `{error_id}`). Please try again later."
