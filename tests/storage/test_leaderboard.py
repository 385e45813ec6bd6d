"""Server leaderboards: the mix and the top members at family and at genre level, counting only
eligible members."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from music import LikedSong
from storage import Database
from tests.storage.conftest import link, track

GUILD = 10


async def member_with(db: Database, member: int, families: list[str], first_track: int,
                      genres: dict[str, int] | None = None) -> None:
    """A linked member of GUILD whose last sort decided `families` for their liked songs."""
    await link(db, member)
    await db.guilds.add_member(GUILD, member)
    songs = [track(first_track + i) for i in range(len(families))]
    await db.tracks.upsert_many(songs)
    await db.liked.add_many(member, [LikedSong(s.id, datetime.now(UTC)) for s in songs])
    counts = {f: families.count(f) for f in families}
    await db.leaderboard.replace_member_counts(member, "v1", {"family": counts, "genre": genres or {}})


async def test_the_genre_mix_adds_up_the_servers_members(db: Database) -> None:
    """genre_mix sums each genre over the server's members, most first."""
    await member_with(db, 1, ["rock"] * 6 + ["pop"] * 2, 0)
    await member_with(db, 2, ["rock"] * 2 + ["pop"] * 2, 100)
    mix = await db.leaderboard.genre_mix(GUILD, "v1")
    assert [(g.genre, g.count) for g in mix] == [("rock", 8), ("pop", 4)]


async def test_top_members_rank_by_count_with_the_genres_share_of_their_songs(db: Database) -> None:
    """top_members orders by songs of the genre and gives that genre's share of each member's songs."""
    await member_with(db, 1, ["rock"] * 6 + ["pop"] * 2, 0)
    await member_with(db, 2, ["rock"] * 2 + ["pop"] * 2, 100)
    top = await db.leaderboard.top_members(GUILD, "rock", "v1")
    assert [(m.discord_id, m.count) for m in top] == [(1, 6), (2, 2)]
    assert [m.share for m in top] == [pytest.approx(0.75), pytest.approx(0.5)]


async def test_a_member_who_opted_out_is_not_counted(db: Database) -> None:
    """Opting out of a server's leaderboard removes the member from its mix and its top list."""
    await member_with(db, 1, ["rock"] * 2, 0)
    await member_with(db, 3, ["rock"] * 50, 100)
    await db.guilds.set_leaderboard_opt_out(GUILD, 3, True)
    assert [(g.genre, g.count) for g in await db.leaderboard.genre_mix(GUILD, "v1")] == [("rock", 2)]
    assert [m.discord_id for m in await db.leaderboard.top_members(GUILD, "rock", "v1")] == [1]


async def test_a_member_who_unlinked_is_not_counted(db: Database) -> None:
    """Only linked members appear on a leaderboard."""
    await member_with(db, 1, ["rock"] * 2, 0)
    await member_with(db, 2, ["rock"] * 9, 100)
    await db.unlink_member(2)
    assert [(g.genre, g.count) for g in await db.leaderboard.genre_mix(GUILD, "v1")] == [("rock", 2)]


async def test_another_servers_leaderboard_is_empty(db: Database) -> None:
    """Members count only on the servers they were seen in."""
    await member_with(db, 1, ["rock"] * 2, 0)
    assert await db.leaderboard.genre_mix(GUILD + 1, "v1") == []


async def test_a_recount_replaces_the_members_counts(db: Database) -> None:
    """replace_member_counts after the next sort leaves only what that sort counted."""
    await member_with(db, 1, ["rock"] * 4, 0, {"alt-rock": 4})
    await db.leaderboard.replace_member_counts(1, "v1", {"family": {"jazz": 1}, "genre": {"bebop": 1}})
    assert [(g.genre, g.count) for g in await db.leaderboard.genre_mix(GUILD, "v1")] == [("jazz", 1)]
    assert [(g.genre, g.count) for g in await db.leaderboard.genre_mix(GUILD, "v1", "genre")] == [("bebop", 1)]


async def test_the_genre_view_adds_up_genres_apart_from_families(db: Database) -> None:
    """At genre level the mix and the top fans read the genre rows, shares still of all the member's songs."""
    await member_with(db, 1, ["rock"] * 6 + ["asian-pop"] * 2, 0, {"alt-rock": 4, "rock": 2, "k-pop": 2})
    await member_with(db, 2, ["asian-pop"] * 4, 100, {"k-pop": 3, "j-pop": 1})
    mix = await db.leaderboard.genre_mix(GUILD, "v1", "genre")
    assert [(g.genre, g.count) for g in mix] == [("k-pop", 5), ("alt-rock", 4), ("rock", 2), ("j-pop", 1)]
    top = await db.leaderboard.top_members(GUILD, "k-pop", "v1", level="genre")
    assert [(m.discord_id, m.count) for m in top] == [(2, 3), (1, 2)]
    assert [m.share for m in top] == [pytest.approx(0.75), pytest.approx(0.25)]


async def test_a_members_own_counts_at_each_level(db: Database) -> None:
    """member_counts gives one member's songs per family or per genre, most first."""
    await member_with(db, 1, ["rock"] * 3 + ["jazz"], 0, {"alt-rock": 3, "bebop": 1})
    assert await db.leaderboard.member_counts(1, "v1") == {"rock": 3, "jazz": 1}
    assert await db.leaderboard.member_counts(1, "v1", "genre") == {"alt-rock": 3, "bebop": 1}
    assert await db.leaderboard.member_counts(1, "v2") == {}
