"""Server leaderboards: genre mix and top members, counting only eligible members."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from music import LikedSong
from storage import Database
from tests.storage.conftest import Guess, link, track

GUILD = 10


async def member_with(db: Database, member: int, genres: list[str], first_track: int) -> None:
    """A linked member of GUILD whose liked songs are classified as `genres`."""
    await link(db, member)
    await db.guilds.add_member(GUILD, member)
    songs = [track(first_track + i) for i in range(len(genres))]
    await db.tracks.upsert_many(songs)
    await db.liked.add_many(member, [LikedSong(s.id, datetime.now(UTC)) for s in songs])
    await db.predictions.save_many("v1", {s.id: Guess(g) for s, g in zip(songs, genres, strict=True)})
    await db.leaderboard.refresh_member(member, "v1")


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


async def test_a_recount_follows_the_members_library(db: Database) -> None:
    """refresh_member after a full read counts the library as it is now."""
    await member_with(db, 1, ["rock"] * 4, 0)
    await db.liked.replace_all(1, [LikedSong(track(0).id, datetime.now(UTC))])
    await db.leaderboard.refresh_member(1, "v1")
    assert [(g.genre, g.count) for g in await db.leaderboard.genre_mix(GUILD, "v1")] == [("rock", 1)]
