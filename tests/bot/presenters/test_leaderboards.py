"""Genre mixes and top fans (/stats, /leaderboard): each label with its count and share, fans by
songs and by share, a clear line when there is nothing to show, and every embed within Discord's
limits however many genres or members and however hostile their names."""

from __future__ import annotations

import discord

from bot.presenters.leaderboards import mix_embed, top_members_embed
from bot.presenters.limits import chart_file
from storage.records import MemberGenreCount
from tests.bot.presenters.discord_markdown import live_markdown, live_mentions, shown_text
from tests.bot.presenters.embed_limits import within_discords_embed_limits


def hostile_label(i: int) -> str:
    """A genre name that tries everything: a masked link, bold, strike-through, pings, and length."""
    return f"[{i}](https://evil.example) **LOUD** ~~gone~~ @everyone <@123456789012345678> (live) " + "long " * 40


def fan(discord_id: int, count: int, share: float) -> MemberGenreCount:
    return MemberGenreCount(discord_id=discord_id, count=count, share=share)


def field(embed: discord.Embed, name: str) -> str:
    return next(f.value or "" for f in embed.fields if f.name == name)


# --- mix_embed -----------------------------------------------------------------------------------


def test_a_mix_lists_each_label_with_its_songs_and_share_in_the_order_given() -> None:
    """Most first as the service counts them: '**Rock** — 1,234 (62%)', and the chart below."""
    embed = mix_embed("Your genre mix", {"Rock": 1234, "Jazz & Blues": 766})
    assert embed.title == "Your genre mix"
    assert embed.description == "**Rock** — 1,234 (62%)\n**Jazz & Blues** — 766 (38%)"
    assert embed.image.url == f"attachment://{chart_file(b'png').filename}"


def test_an_empty_mix_says_to_run_sort_and_shows_no_chart() -> None:
    """Nothing classified yet: a sentence telling the member what to do, and no image."""
    embed = mix_embed("Your genre mix", {})
    assert embed.description == "Nothing classified yet: run /sort first."
    assert embed.image.url is None


def test_a_124_genre_mix_with_hostile_long_names_fits_one_embed() -> None:
    """124 long genre names full of markdown and pings: within every limit, whole lines only, each
    name shown as it is and unformatted, pinging nobody, and '…and N more' counting the rest."""
    mix = {hostile_label(i): 1_000_000 - i for i in range(124)}
    embed = mix_embed("This server's genres", mix)
    assert within_discords_embed_limits(embed)
    *shown, note = (embed.description or "").split("\n")
    assert note == f"…and {124 - len(shown)} more" and len(shown) > 0
    for line, label in zip(shown, mix, strict=False):
        assert shown_text(line).startswith(f"**{label}** — ")
        assert live_markdown(line) == ["*", "*", "*", "*"], line  # only the line's own bold
        assert live_mentions(line) == []


# --- top_members_embed -----------------------------------------------------------------------


def test_top_fans_are_ranked_by_songs_and_by_share() -> None:
    """The service's order by songs, numbered; the share column re-ranked, highest first."""
    embed = top_members_embed("Rock", [fan(111111111111111111, 300, 0.30), fan(222222222222222222, 200, 0.80),
                                       fan(333333333333333333, 100, 0.50)])
    assert embed.title == "Top Rock fans here"
    assert field(embed, "By songs") == ("1. <@111111111111111111> — 300 songs\n2. <@222222222222222222> — 200 songs\n"
                                        "3. <@333333333333333333> — 100 songs")
    assert field(embed, "By share") == ("1. <@222222222222222222> — 80%\n2. <@333333333333333333> — 50%\n"
                                        "3. <@111111111111111111> — 30%")


def test_fans_with_equal_shares_keep_their_order_by_songs_and_share_a_rank() -> None:
    """Ties in share are not shuffled: they stay in the by-songs order, every time, all ranked 1."""
    rows = [fan(100000000000000000 + i, 50 - i, 0.25) for i in range(5)]
    by_share = field(top_members_embed("Rock", rows), "By share").split("\n")
    assert by_share == [f"1. <@{100000000000000000 + i}> — 25%" for i in range(5)]


def test_fans_with_as_many_songs_share_a_rank() -> None:
    """Two members with 300 songs are both 1st and the next is 3rd (before, the one with the
    larger Discord id read '2.' beside the same 300 songs)."""
    rows = [fan(111111111111111111, 300, 0.30), fan(222222222222222222, 300, 0.60), fan(333333333333333333, 100, 0.60)]
    embed = top_members_embed("Rock", rows)
    assert field(embed, "By songs") == ("1. <@111111111111111111> — 300 songs\n1. <@222222222222222222> — 300 songs\n"
                                        "3. <@333333333333333333> — 100 songs")
    assert field(embed, "By share") == ("1. <@222222222222222222> — 60%\n1. <@333333333333333333> — 60%\n"
                                        "3. <@111111111111111111> — 30%")


def test_nobody_yet_when_no_member_has_songs_of_it() -> None:
    """An empty leaderboard says so in both columns, rather than showing empty fields."""
    embed = top_members_embed("Rock", [])
    assert [(f.name, f.value) for f in embed.fields] == [("By songs", "Nobody yet"), ("By share", "Nobody yet")]
    assert within_discords_embed_limits(embed)


def test_a_familys_fans_come_with_how_its_songs_here_split_into_its_genres() -> None:
    """/leaderboard genre:rock also lists Rock's genres on this server, with their songs."""
    embed = top_members_embed("Rock", [fan(111111111111111111, 3, 0.5)], {"Alt-Rock": 1_200, "Punk": 3})
    assert field(embed, "Its genres here") == "Alt-Rock — 1,200\nPunk — 3"


def test_a_genres_fans_have_no_genre_breakdown() -> None:
    """A genre (or a family with nothing here) shows the two fan columns only."""
    assert [f.name for f in top_members_embed("Punk", [fan(1, 3, 0.5)], {}).fields] == ["By songs", "By share"]


def test_forty_fans_and_124_hostile_genres_fit_one_embed() -> None:
    """40 fans with a billion songs each and 124 long hostile genre names: within every limit, each
    column cut at a whole fan with '…and N more', every genre name shown unformatted and ping-free."""
    rows = [fan(900000000000000000 + i, 1_000_000_000 - i, 1 - i / 100) for i in range(40)]
    embed = top_members_embed("Rock", rows, {hostile_label(i): 1_000_000 - i for i in range(124)})
    assert within_discords_embed_limits(embed)
    for name in ["By songs", "By share"]:
        *ranked, note = field(embed, name).split("\n")
        assert [line.split(". ")[0] for line in ranked] == [str(i) for i in range(1, len(ranked) + 1)]
        assert note == f"…and {40 - len(ranked)} more"
    genres = field(embed, "Its genres here")
    assert live_markdown(genres) == [] and live_mentions(genres) == []
    assert genres.split("\n")[-1].startswith("…and ")


def test_a_long_hostile_label_leaves_a_whole_title() -> None:
    """A 300-character name full of markdown is shortened, not cut mid-escape: the title still reads
    'Top … fans here', within 256 characters, with no stray backslash or live markdown."""
    embed = top_members_embed("Nu " + "*" * 300, [])
    title = embed.title or ""
    assert len(title) <= 256 and title.endswith(" fans here")
    assert shown_text(title).startswith("Top Nu ***") and live_markdown(title) == []
