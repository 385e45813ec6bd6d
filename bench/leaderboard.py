"""Leaderboard queries for a guild of 1,000 linked members with 5,000 liked songs each."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe, table
from music import LikedSong, Track
from storage import Database

MEMBERS, SONGS, POOL, GUILD, VERSION = 1_000, 5_000, 100_000, 42, "bench-model"
GENRES = ("edm", "latin", "pop", "r&b", "rap", "rock")


@dataclass
class P:
    genre: str
    genre_confidence: float = 0.9
    subgenre: str | None = None
    subgenre_confidence: float | None = None
    genre_probabilities: Mapping[str, float] = field(default_factory=dict)


async def build(db: Database) -> float:
    import random

    rng = random.Random(7)
    start = time.perf_counter()
    ids = [f"t{i:021d}" for i in range(POOL)]
    await db.tracks.upsert_many([Track(id=i, name="x", artists=("a",)) for i in ids])
    await db.predictions.save_many(VERSION, {i: P(GENRES[n % 6]) for n, i in enumerate(ids)})
    now = datetime.now(UTC)
    for member in range(MEMBERS):
        await db.link_member(member, f"sp{member}", f"m{member}", [], {"access_token": "x"})
        await db.guilds.add_member(GUILD, member)
        await db.liked.add_many(member, [LikedSong(t, now) for t in rng.sample(ids, SONGS)])
        await db.leaderboard.refresh_member(member, VERSION)
    for member in range(0, MEMBERS, 10):
        await db.guilds.set_leaderboard_opt_out(GUILD, member, True)
    return time.perf_counter() - start


async def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        built = await build(db)
        rows = []
        for label, query in (
            ("genre mix of the guild", lambda: db.leaderboard.genre_mix(GUILD, VERSION)),
            ("top members for 'rock'", lambda: db.leaderboard.top_members(GUILD, "rock", VERSION, 10)),
            ("one member's refresh of counts", lambda: db.leaderboard.refresh_member(5, VERSION)),
        ):
            times = []
            for _ in range(20):
                start = time.perf_counter()
                await query()
                times.append((time.perf_counter() - start) * 1000)
            rows.append([label, f"{statistics.median(times):.1f} ms", f"{max(times):.1f} ms"])
        await db.close()
    print(f"Leaderboards: {MEMBERS:,} linked members x {SONGS:,} liked songs ({MEMBERS * SONGS:,} rows), "
          f"built in {built:.0f} s ({describe()})\n")
    print(table(["query", "median", "max of 20"], rows))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
