"""Sorting a playlist against sorting Liked Songs, and how fast `/sort source:` suggestions come.

The Spotify sandbox runs in another process with 50 ms per request. Prints (1) a sort of a
5,000-song playlist next to the reference measured in the same run: a sort of 5,000 Liked Songs
of another member (different songs, so neither finds stored predictions); (2) the weekly
refresh of that playlist after 20 songs were added, next to the weekly refresh of Liked Songs
after 20 new likes; (3) source suggestions for a member with 200 playlists: the first keystroke,
which fetches the list (`GET /me` and four pages of `GET /me/playlists`), against the next ones,
which use the kept list (median of 10 each).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from bench.machine import describe, table
from bench.sort_e2e import CLIENT_ID, CLIENT_SECRET, LATENCY_S, Sandbox, _close, _link, _services
from bot.choices import source_choices
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.web import WebServer
from music import LIKED_SONGS, SortSource

SONGS = 5_000
PLAYLISTS = 200
ADDED = 20
LIKER, LISTER = 1, 2
EVERYTHING = "Everything I ever saved"


@dataclass(frozen=True)
class TimedSort:
    wall_s: float
    requests: int
    new_songs: int


async def timed_sort(services: Services, sandbox: Sandbox, member: int, source: SortSource, incremental: bool) -> TimedSort:
    before = await sandbox.api_requests()
    start = time.perf_counter()
    report = await services.sorting.sort(member, SortOptions(), source=source, incremental=incremental)
    wall = time.perf_counter() - start
    return TimedSort(wall, await sandbox.api_requests() - before, report.new_songs)


def _serve_sandbox(users: dict[str, int], redirect_uri: str, port_out: Connection) -> None:
    """The sandbox process: 'liker' likes SONGS songs; 'lister' owns a SONGS-song playlist and
    PLAYLISTS - 1 small ones. Sends back the port."""
    from sandbox.library import synthetic_library
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxState

    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect_uri}, latency_s=LATENCY_S)
    state.add_user("liker", "Liker", synthetic_library(users["liker"], seed=1, prefix="liker"))
    listed = synthetic_library(users["lister"], seed=2, prefix="lister")
    state.add_user("lister", "Lister", listed[:10])
    state.add_playlist("lister", EVERYTHING, listed)
    for n in range(PLAYLISTS - 1):
        state.add_playlist("lister", f"Mix {n:03d}", listed[n : n + 5])

    async def main() -> None:
        base = await SandboxServer(state, port=0).start()
        port_out.send(int(base.rsplit(":", 1)[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


async def main() -> None:
    print(f"## Playlists as sources: {describe()}")
    print(f"Sandbox in another process, {LATENCY_S * 1000:.0f} ms per request.\n")
    sandbox = Sandbox({"liker": SONGS, "lister": SONGS}, WebServer("127.0.0.1", 0), target=_serve_sandbox)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            services, web = await _services(sandbox, Path(tmp))
            await _link(services, LIKER, "liker")
            await _link(services, LISTER, "lister")
            source = await services.sources.resolve(LISTER, EVERYTHING)
            liked = await timed_sort(services, sandbox, LIKER, LIKED_SONGS, False)
            playlist = await timed_sort(services, sandbox, LISTER, source, False)
            print(table(["sort", "wall", "requests", "vs Liked Songs"], [
                [f"Liked Songs, {SONGS:,} (reference)", f"{liked.wall_s:.2f} s", liked.requests, "1.00x"],
                [f"playlist, {SONGS:,}", f"{playlist.wall_s:.2f} s", playlist.requests,
                 f"{playlist.wall_s / liked.wall_s:.2f}x"],
            ]))

            async with aiohttp.ClientSession() as session:
                await session.post(f"{sandbox.base}/_sandbox/like?user=liker&count={ADDED}")
            known = await services.db.liked.list(LIKER)  # songs the sandbox knows, added to the playlist
            uris = [f"spotify:track:{song.track_id}" for song in known[:ADDED]]
            playlist_id = source.playlist_id or ""
            async with services.linking.client(LISTER) as client:
                await asyncio.to_thread(client.add_playlist_items, playlist_id, uris)
            liked_refresh = await timed_sort(services, sandbox, LIKER, LIKED_SONGS, True)
            playlist_refresh = await timed_sort(services, sandbox, LISTER, source, True)
            print()
            print(table(["weekly refresh", "new songs", "wall", "requests"], [
                [f"Liked Songs, {SONGS:,} + {ADDED} liked (reference)", liked_refresh.new_songs,
                 f"{liked_refresh.wall_s:.2f} s", liked_refresh.requests],
                [f"playlist, {SONGS:,} + {ADDED} added", playlist_refresh.new_songs,
                 f"{playlist_refresh.wall_s:.2f} s", playlist_refresh.requests],
            ]))

            cold, warm = [], []
            for _ in range(10):
                services.sources.ttl_s = 0  # the list is fetched again
                start = time.perf_counter()
                await source_choices(services.sources, LISTER, "mix 1", wait_s=30)
                cold.append(time.perf_counter() - start)
                services.sources.ttl_s = 3600
                start = time.perf_counter()
                await source_choices(services.sources, LISTER, "mix 1", wait_s=30)
                warm.append(time.perf_counter() - start)
            print()
            print(table(
                [f"suggestions, {PLAYLISTS} playlists", "median", "max"],
                [
                    ["first keystroke: fetch the list", f"{statistics.median(cold) * 1000:.0f} ms",
                     f"{max(cold) * 1000:.0f} ms"],
                    ["next keystrokes: kept list", f"{statistics.median(warm) * 1000:.2f} ms",
                     f"{max(warm) * 1000:.2f} ms"],
                ],
            ))
            await _close(services, web)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn", force=True)
    asyncio.run(main())
