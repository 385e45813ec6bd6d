"""Discord's limits on messages and embeds, and what every presenter shares to respect them.

Text from outside (genre names from a model's taxonomy, Spotify display names, playlist names)
is escaped by `safe` so it can neither format nor ping, and by `safe_within` where it must also
fit a length (shortened first: cutting escaped text could split an escape); long lists are cut at whole lines by
`fit_lines` with a "…and N more" note, never mid-link; `share_out` splits an embed's characters
between its fields. The colour, the chart attachment and Discord's timestamp markup are here
too, because several presenters use them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import discord

from bot.services.genre_names import shorten
from music import SortSource

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
    """Escape markdown and neutralise @mentions in text that came from outside: it shows as it was
    (an escape hides its backslash), unformatted, and pings nobody."""
    return discord.utils.escape_mentions("\n".join(_escape_markdown_line(line) for line in text.split("\n")))


def safe_within(text: str, limit: int) -> str:
    """`safe` text in at most `limit` (>= 1) characters, on one line: shortened with '…' before it is
    escaped, since a cut after escaping can split an escape and leave a stray backslash. Escaping
    can double a text (a backslash per character), so it is shortened further until it fits."""
    room = limit
    while room >= 1:
        escaped = safe(shorten(text, room))
        if len(escaped) <= limit:
            return escaped
        room -= (len(escaped) - limit + 1) // 2  # each character escapes to at most two
    return "…"


def _escape_markdown_line(line: str) -> str:
    """discord.py's escape_markdown for one line, less its two gaps. It escapes a masked link
    "[a](b)" by its "[" alone and leaves the rest of the line as it is ("[a](b) **loud** [c](d)"
    stays bold, and "[c](d)" a link), so each "[" is escaped here and the text after it escaped as
    the middle of a line (the "x" keeps line-start rules off it; a "[" in a bare link, which a
    valid address never has, is escaped too). And it escapes an indented list item's "  -"
    before the indent, where Discord shows the backslash, so the indent is set aside."""
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    first, *after_brackets = body.split("[")
    escaped = [discord.utils.escape_markdown(first)]
    escaped += ["\\[" + discord.utils.escape_markdown("x" + part)[1:] for part in after_brackets]
    return indent + "".join(escaped)


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


def chart_files(png: bytes | None) -> list[discord.File]:
    """A message's attachments: the chart, or none when there was nothing to chart."""
    return [] if png is None else [chart_file(png)]


def source_title(source: SortSource, limit: int = 80) -> str:
    """A source's name for a message: escaped, one line, shortened."""
    return safe(shorten(source.name, limit))


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


def discord_relative_time(moment: datetime) -> str:
    """Discord's timestamp markup ('in 3 days'), shown in each member's own time zone."""
    return f"<t:{int(moment.timestamp())}:R>"


def discord_time(moment: datetime) -> str:
    """Discord's timestamp markup for a day and time ('28 November 2026 18:00'), in each member's own time zone."""
    return f"<t:{int(moment.timestamp())}:f>"
