"""Write latency while forged OAuth callbacks flood the state check (issue #14 item 8).

A writer stores a small value every 5 ms and times each write; meanwhile 3,000 forged states
arrive at about 800 per second, concurrently as HTTP requests do, each checked as the OAuth
callback does (`oauth_states.consume`). The reference is the same writer in the same run with no flood.
`python -m bench.oauth_flood`.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from storage import Database, InvalidOAuthState

FORGED, RATE_PER_S, WRITE_EVERY_S = 3_000, 800, 0.005


async def timed_writes(db: Database, stop: asyncio.Event) -> list[float]:
    """Milliseconds per write until `stop` is set."""
    times = []
    while not stop.is_set():
        start = time.perf_counter()
        await db.app_state.set("bench.tick", str(start))
        times.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(WRITE_EVERY_S)
    return times


async def forged_callback(db: Database) -> None:
    try:
        await db.oauth_states.consume(secrets.token_urlsafe(32))
    except InvalidOAuthState:
        pass


async def forged_callbacks(db: Database) -> None:
    """Callbacks arrive on their own schedule, as HTTP requests do: none waits for the previous."""
    started = time.perf_counter()
    arrivals = []
    for n in range(FORGED):
        arrivals.append(asyncio.create_task(forged_callback(db)))
        delay = started + (n + 1) / RATE_PER_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*arrivals)


async def measure(db: Database, *, flood: bool) -> list[float]:
    stop = asyncio.Event()
    writer = asyncio.create_task(timed_writes(db, stop))
    if flood:
        await forged_callbacks(db)
    else:
        await asyncio.sleep(FORGED / RATE_PER_S)
    stop.set()
    return await writer


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def summary(times: list[float]) -> list[str]:
    return [f"{statistics.median(times):.2f} ms", f"{p99(times):.2f} ms", f"{max(times):.2f} ms", str(len(times))]


async def run() -> None:
    from bench.machine import describe, table

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3", encryption_keys=[Fernet.generate_key().decode()])
        try:
            for _ in range(50):  # warm the connection and the page cache
                await db.oauth_states.create(1)
            quiet = await measure(db, flood=False)
            flooded = await measure(db, flood=True)
        finally:
            await db.close()
    ratio = p99(flooded) / p99(quiet)
    print(f"Write latency during {FORGED:,} forged OAuth callbacks at ~{RATE_PER_S}/s ({describe()})\n")
    print(table(["writer", "median", "p99", "max", "writes"],
                [["no flood (reference)", *summary(quiet)], ["during the flood", *summary(flooded)]]))
    print(f"\np99 during the flood / p99 of the reference: {ratio:.1f}x")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
