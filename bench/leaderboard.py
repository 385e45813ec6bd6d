"""Leaderboard queries for a guild of 1,000 linked members whose sorts counted 5,000 liked songs
each, at both levels of the shipped taxonomy (its families and genres)."""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.machine import describe, table
from classifier import Classifier
from storage import Database
from storage.leaderboard import CountLevel

MEMBERS, SONGS, GUILD, VERSION = 1_000, 5_000, 42, "bench-model"


def counts_of_a_library(rng: random.Random, genres: list[str], family_of: dict[str, str]) -> dict[CountLevel, dict[str, int]]:
    """What a sort of SONGS songs leaves: songs per genre (a few dozen genres) and per family."""
    liked = rng.sample(genres, 40)
    by_genre: dict[str, int] = {}
    for genre in rng.choices(liked, k=SONGS):
        by_genre[genre] = by_genre.get(genre, 0) + 1
    by_family: dict[str, int] = {}
    for genre, count in by_genre.items():
        by_family[family_of[genre]] = by_family.get(family_of[genre], 0) + count
    return {"family": by_family, "genre": by_genre}


async def build(db: Database, genres: list[str], family_of: dict[str, str]) -> float:
    rng = random.Random(7)
    start = time.perf_counter()
    for member in range(MEMBERS):
        await db.link_member(member, f"sp{member}", f"m{member}", [], {"access_token": "x"})
        await db.guilds.add_member(GUILD, member)
        await db.leaderboard.replace_member_counts(member, VERSION, counts_of_a_library(rng, genres, family_of))
    for member in range(0, MEMBERS, 10):
        await db.guilds.set_leaderboard_opt_out(GUILD, member, True)
    return time.perf_counter() - start


async def run() -> None:
    taxonomy = Classifier.load().taxonomy
    genres = list(taxonomy.genres)
    family_of = {g: taxonomy.family_of(g) for g in genres}
    family, genre = taxonomy.families[1], taxonomy.genres[len(genres) // 2]
    again = counts_of_a_library(random.Random(8), genres, family_of)
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        built = await build(db, genres, family_of)
        rows = []
        for label, query in (
            ("family mix of the guild", lambda: db.leaderboard.genre_mix(GUILD, VERSION)),
            ("genre mix of the guild", lambda: db.leaderboard.genre_mix(GUILD, VERSION, "genre")),
            (f"top members for family '{family}'", lambda: db.leaderboard.top_members(GUILD, family, VERSION, 10)),
            (f"top members for genre '{genre}'",
             lambda: db.leaderboard.top_members(GUILD, genre, VERSION, 10, "genre")),
            ("one member's counts replaced", lambda: db.leaderboard.replace_member_counts(5, VERSION, again)),
        ):
            times = []
            for _ in range(20):
                start = time.perf_counter()
                await query()
                times.append((time.perf_counter() - start) * 1000)
            rows.append([label, f"{statistics.median(times):.1f} ms", f"{max(times):.1f} ms"])
        await db.close()
    print(f"Leaderboards: {MEMBERS:,} linked members, each with counts of {SONGS:,} liked songs over "
          f"{len(taxonomy.families)} families and 40 of {len(genres)} genres, built in {built:.0f} s ({describe()})\n")
    print(table(["query", "median", "max of 20"], rows))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
