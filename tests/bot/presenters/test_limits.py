"""What every presenter relies on to stay within Discord's limits: outside text escaped so it shows
as it was but can neither format nor ping, long lists cut at whole lines with "…and N more", an
embed's characters shared out between its fields, sources' titles, timestamps and the chart file."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.presenters.limits import (
    CHART_NAME,
    chart_file,
    discord_relative_time,
    fit_lines,
    safe,
    safe_within,
    share_out,
    source_title,
)
from music import SortSource
from tests.bot.presenters.discord_markdown import live_markdown, live_mentions, shown_text

MEMBER = "<@123456789012345678>"  # Discord ids have 17 to 20 digits
ROLE = "<@&223456789012345678>"
# Pieces of hostile outside text (Spotify display names, playlist names, what members type). An
# address ends at a space here: one straight before a "[" would keep the escaped "\\[" inside it.
HOSTILE_PIECES = [*"ab 1*_~|`>#-[]()\\\t\n", "**", "||", "> ", "# ", "- ", "  - ", "-# ", "[x](y)",
                  "[click](https://evil.example) ", "@everyone", "@here", MEMBER, ROLE, "<@!123456789012345678>"]


def hostile_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(HOSTILE_PIECES) for _ in range(rng.randint(0, 14))) for _ in range(count)]


# --- safe --------------------------------------------------------------------------------------


def test_markdown_in_outside_text_is_escaped_not_dropped() -> None:
    """Bold, italics, strike-through, spoilers, code and backslashes show as typed, unformatted."""
    text = "**bold** _it_ __u__ ~~gone~~ ||spoiler|| `code` back\\slash"
    assert safe(text) == ("\\*\\*bold\\*\\* \\_it\\_ \\_\\_u\\_\\_ \\~\\~gone\\~\\~ \\|\\|spoiler\\|\\| "
                          "\\`code\\` back\\\\slash")
    assert shown_text(safe(text)) == text


def test_quotes_headings_and_list_items_at_a_lines_start_are_escaped() -> None:
    """'> quote', '# heading', '-# subtext' and '- item' start no block: each shows as typed."""
    for text in ["> quote", ">>> quote", "# heading", "### heading", "-# subtext", "- item", "Name\n- item"]:
        assert live_markdown(safe(text)) == [] and shown_text(safe(text)) == text, text


def test_everyone_here_and_member_or_role_mentions_ping_nobody() -> None:
    """@everyone, @here, <@id>, <@!id> and <@&id> are broken by an invisible space, and read the same."""
    text = f"@everyone @here {MEMBER} <@!123456789012345678> {ROLE}"
    assert live_mentions(safe(text)) == []
    assert shown_text(safe(text)) == text


def test_a_masked_link_shows_its_address_instead_of_hiding_it() -> None:
    """'[click](https://evil.example)' is not a link with a made-up text: its '[' is escaped."""
    assert safe("[click](https://evil.example)") == "\\[click](https://evil.example)"


def test_every_masked_link_in_a_text_is_escaped() -> None:
    """A second masked link on the same line is no more a link than the first."""
    text = "[Live](https://a.example) [click me](https://evil.example)"
    assert safe(text) == "\\[Live](https://a.example) \\[click me](https://evil.example)"


def test_a_bare_link_is_left_clickable() -> None:
    """An address is not escaped inside (its underscores stay), so Discord still links it."""
    assert safe("see https://open.spotify.com/playlist/a_b_c") == "see https://open.spotify.com/playlist/a_b_c"


def test_markdown_between_masked_links_is_escaped_too() -> None:
    """'[a](b) **loud** [c](d)': the bold between two masked links is escaped like any other."""
    text = "[a](b) **loud** ~~gone~~ [c](d)"
    assert live_markdown(safe(text)) == []
    assert shown_text(safe(text)) == text


def test_an_indented_list_item_is_escaped_without_a_stray_backslash() -> None:
    """'  - item' shows as typed: the dash is escaped, not the space before it (which shows a backslash)."""
    for text in ["  - item", "Name\n  - item", "Name\n\n- item"]:
        assert live_markdown(safe(text)) == [] and shown_text(safe(text)) == text, repr(text)


def test_any_hostile_text_shows_as_it_was_unformatted_and_pinging_nobody() -> None:
    """3,000 random mixes of markdown, links, mentions and line breaks: shown as typed, nothing live."""
    for text in hostile_texts(3000, seed=20260301):
        escaped = safe(text)
        assert shown_text(escaped) == text, (text, escaped)
        assert live_markdown(escaped) == [], (text, escaped)
        assert live_mentions(escaped) == [], (text, escaped)


# --- safe_within -------------------------------------------------------------------------------


def test_outside_text_that_fits_is_escaped_whole_on_one_line() -> None:
    """A short name comes back as `safe` makes it, its line breaks and runs of spaces one space."""
    assert safe_within("Road\n**Trip**   @everyone", 100) == "Road \\*\\*Trip\\*\\* @\u200beveryone"


def test_text_whose_escapes_overflow_is_shortened_before_it_is_escaped() -> None:
    """100 asterisks in 120 characters: 59 shown and '…', every asterisk escaped, none cut in half."""
    escaped = safe_within("*" * 100, 120)
    assert escaped == "\\*" * 59 + "…"
    assert shown_text(escaped) == "*" * 59 + "…" and live_markdown(escaped) == []


def test_any_hostile_text_in_any_limit_is_whole_or_its_start_and_an_ellipsis() -> None:
    """3,000 random mixes and limits: never over the limit; shown as typed (on one line) or as its start
    and '…'; nothing live, no mention left, no backslash the text did not have."""
    rng = random.Random(20260302)
    for text in hostile_texts(3000, seed=20260302):
        line = " ".join(text.split())
        if not line:
            continue
        limit = rng.randint(1, 40)
        escaped = safe_within(text, limit)
        shown = shown_text(escaped)
        assert len(escaped) <= limit, (text, limit, escaped)
        assert shown == line or (shown.endswith("…") and line.startswith(shown[:-1])), (text, limit, escaped)
        assert shown == line or len(safe(line)) > limit, (text, limit, escaped)
        assert live_markdown(escaped) == [] and live_mentions(escaped) == [], (text, limit, escaped)
        assert shown.count("\\") <= line.count("\\"), (text, limit, escaped)


# --- fit_lines ---------------------------------------------------------------------------------


def playlist_links(count: int) -> list[str]:
    return [f"[Genre {i}](https://open.spotify.com/playlist/{i:022d}) — {i * 7:,} songs" for i in range(count)]


def test_lines_that_fit_are_kept_verbatim() -> None:
    """Three lines within the limit come back joined, exactly as they were, with no note."""
    lines = playlist_links(3)
    joined = "\n".join(lines)
    assert fit_lines(lines, len(joined)) == joined


def test_a_long_list_keeps_whole_links_and_counts_the_rest() -> None:
    """200 playlist links in 1,024 characters: whole lines only, then '…and N more' with the right N."""
    lines = playlist_links(200)
    text = fit_lines(lines, 1024)
    *kept, note = text.split("\n")
    assert kept == lines[: len(kept)] and len(kept) > 0
    assert note == f"…and {200 - len(kept)} more"
    assert len(text) <= 1024
    assert len("\n".join([*lines[: len(kept) + 1], f"…and {200 - len(kept) - 1} more"])) > 1024  # as many as fit


def test_a_cut_list_is_as_full_as_it_can_be_for_any_size_and_limit() -> None:
    """2,000 random lists, limits and separators: never over the limit, never a cut line, the right
    count in the note, and one more line would not have fitted."""
    rng = random.Random(7)
    for _ in range(2000):
        sep = rng.choice(["\n", ", ", " · "])
        lines = ["".join(rng.choice("ab*_[]()@<>") for _ in range(rng.randint(0, 80))) for _ in range(rng.randint(0, 60))]
        limit = rng.randint(20, 2000)
        text = fit_lines(lines, limit, sep=sep)
        assert len(text) <= limit
        if len(sep.join(lines)) <= limit:
            assert text == sep.join(lines)
            continue
        *kept, note = text.split(sep)
        assert kept == lines[: len(kept)]
        assert note == f"…and {len(lines) - len(kept)} more"
        one_more = [*lines[: len(kept) + 1], f"…and {len(lines) - len(kept) - 1} more"]
        assert len(kept) + 1 == len(lines) or len(sep.join(one_more)) > limit


def test_a_single_line_longer_than_the_limit_is_counted_not_cut() -> None:
    """A line that cannot fit is never shown half: the text says '…and 1 more'."""
    assert fit_lines(["x" * 50], 20) == "…and 1 more"


def test_no_lines_give_empty_text() -> None:
    """An empty list is empty text (the presenters then say 'Nobody yet', 'None yet'...)."""
    assert fit_lines([], 100) == ""


def test_items_with_another_separator_and_note() -> None:
    """Genres listed with ', ' and a custom note are cut at whole items too."""
    genres = ["Alt-Rock", "Punk", "Grunge", "Emo", "Shoegaze"]
    assert fit_lines(genres, 30, more="+{n} others", sep=", ") == "Alt-Rock, Punk, +3 others"


def test_even_a_note_longer_than_the_limit_stays_within_it() -> None:
    """With a limit shorter than the note itself the text is cut to the limit, never longer."""
    for limit in range(1, 14):
        assert len(fit_lines(["a" * 20] * 3, limit)) <= limit


# --- share_out ---------------------------------------------------------------------------------


def test_needs_within_the_budget_are_met_in_full() -> None:
    """Three fields that fit together get exactly what they need."""
    assert share_out(1000, [100, 200, 300], cap=1024) == [100, 200, 300]


def test_short_needs_are_met_and_the_long_ones_split_what_is_left() -> None:
    """100 of 1,000 goes to the short field; the two long ones get 450 each."""
    assert share_out(1000, [2000, 100, 5000], cap=1024) == [450, 100, 450]


def test_no_share_is_above_the_cap_even_with_budget_left() -> None:
    """Two 5,000-character lists in a 6,000 budget get Discord's 1,024 each, not 3,000."""
    assert share_out(6000, [5000, 5000], cap=1024) == [1024, 1024]


def test_shares_keep_every_promise_for_any_needs() -> None:
    """20,000 random budgets, caps and needs: no share above its need or the cap, the sum within the
    budget, needs up to an equal split met, nothing left over while a need is short, and no share
    more than one character above a short one."""
    rng = random.Random(11)
    for _ in range(20000):
        needs = [rng.choice([rng.randint(0, 50), rng.randint(0, 3000)]) for _ in range(rng.randint(0, 30))]
        budget, cap = rng.randint(0, 8000), rng.randint(0, 1500)
        shares = share_out(budget, needs, cap)
        wanted = [min(need, cap) for need in needs]
        assert len(shares) == len(needs) and all(0 <= s <= w for s, w in zip(shares, wanted, strict=True))
        assert sum(shares) <= budget
        assert all(s == w for s, w in zip(shares, wanted, strict=True) if w <= budget // len(needs))
        short = [s for s, w in zip(shares, wanted, strict=True) if s < w]
        if short:
            assert sum(shares) == budget and max(shares) - min(short) <= 1, (budget, needs, cap, shares)


# --- titles, timestamps, the chart -------------------------------------------------------------


def test_a_source_title_is_one_escaped_line() -> None:
    """A playlist name's line breaks become spaces; its markdown and mentions are escaped."""
    road_trip = SortSource("r" * 22, "Road\n**Trip**   @everyone")
    assert source_title(road_trip) == "Road \\*\\*Trip\\*\\* @\u200beveryone"


def test_a_long_source_name_is_shortened_before_it_is_escaped() -> None:
    """A 300-character name reads as at most 80 characters ending in '…', no escape cut in half."""
    title = source_title(SortSource("r" * 22, "a_" * 150))
    assert len(shown_text(title)) <= 80 and shown_text(title).endswith("…")
    assert live_markdown(title) == []


def test_a_moment_is_shown_in_each_members_own_time_zone() -> None:
    """Discord's relative-time markup carries the moment itself, the same from any zone."""
    noon_utc = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert discord_relative_time(noon_utc) == "<t:1772366400:R>"
    assert discord_relative_time(noon_utc.astimezone(ZoneInfo("Asia/Tokyo"))) == "<t:1772366400:R>"


def test_the_chart_file_carries_the_png_under_the_name_embeds_show() -> None:
    """The attachment is the chart's bytes, named as the embeds' attachment:// image."""
    chart = chart_file(b"\x89PNG chart")
    assert chart.filename == CHART_NAME == "genre-mix.png"
    assert chart.fp.read() == b"\x89PNG chart"
