"""End-to-end sorts against the Spotify sandbox with 50 ms per request, in another process.

Prints: (2) sorts of 500 / 5,000 / 20,000 liked songs with wall time, requests and the ratio to
the request critical path (the requests that must happen one after another, timed as that many
sequential requests to the same sandbox in the same run), to that path's own requests replayed
with a plain requests session (`replayed_critical_path_s`) and to the floor the app's request
budget sets (SPOTIFY_REQUEST_BUDGET per rolling 30 s); (3) a weekly refresh of 10,000 songs with
20 new (always the same 20), against 20 sequential GET /me in the same run, with its requests by
route and how many songs it gave a new "date added"; (4) event-loop lag while 20 members sort at once; (5) resident memory idle with the
model loaded and during those sorts. `--sizes 20000 --only-sizes` runs section 2 alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
import psutil
import requests
from cryptography.fernet import Fernet

from bench.machine import describe, table
from bot.member_browser import browser_session, walk_link_flow
from bot.services.linking import DiscordMember
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.sorting.writing import PLAYLIST_WRITE_CONCURRENCY
from bot.settings import Settings
from bot.spotify.gate import RequestBudget
from bot.web import WebServer, build_web_app

LATENCY_S = 0.05
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SIZES = (500, 5_000, 20_000)
CROWD = 20
CROWD_SONGS = 1_000
REFRESH_NEW_SONGS = 20
# The 20 songs liked before the refresh: those of every run recorded in RESULTS section 3 (the
# sandbox used to seed them with its request count plus one, 317 then), fixed so commits compare.
REFRESH_SEED = 317
REFRESH_REFERENCE_REQUESTS = 20  # the same run's reference: this many sequential GET /v1/me


def _serve_sandbox(users: dict[str, int], redirect_uri: str, port_out: Connection) -> None:
    """The sandbox process: serve on any free port and send that port back to the parent."""
    from sandbox.library import synthetic_library
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxState

    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect_uri}, latency_s=LATENCY_S)
    for index, (user, size) in enumerate(users.items()):
        state.add_user(user, user, synthetic_library(size, seed=index + 1, prefix=user))
    # A spawned process re-imports this module first, so the stand-in for Spotify carries torch,
    # matplotlib and the bot; left in its collections, a full one stalls every answer ~190 ms.
    gc.collect()
    gc.freeze()

    async def main() -> None:
        base = await SandboxServer(state, port=0).start()
        port_out.send(int(base.rsplit(":", 1)[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


class Sandbox:
    """The Spotify sandbox in its own process, with one registered redirect URI: the bot's callback.

    The callback's port is taken (`WebServer.bind`) before the sandbox starts, because Spotify
    redirects only to registered URIs."""

    def __init__(
        self,
        users: dict[str, int],
        callback: WebServer,
        target: Callable[[dict[str, int], str, Connection], None] = _serve_sandbox,
    ) -> None:
        """`target` seeds and serves the sandbox in the new process (a module-level function)."""
        self.callback = callback
        self.redirect_uri = f"http://127.0.0.1:{callback.bind()}/callback"
        context = multiprocessing.get_context("spawn")
        port_in, port_out = context.Pipe(duplex=False)
        self.process = context.Process(target=target, args=(users, self.redirect_uri, port_out), daemon=True)
        self.process.start()
        if not port_in.poll(120):
            self.stop()
            raise RuntimeError("sandbox did not start")
        self.base = f"http://127.0.0.1:{port_in.recv()}"

    async def api_requests(self) -> int:
        """API requests the sandbox has answered so far."""
        async with aiohttp.ClientSession() as session, session.get(f"{self.base}/_sandbox/stats") as response:
            return int((await response.json())["api_requests"])

    async def requests_by_route(self) -> dict[str, int]:
        """API requests answered so far by method and path ("DELETE /v1/playlists/{id}/items")."""
        async with aiohttp.ClientSession() as session, session.get(f"{self.base}/_sandbox/stats") as response:
            return {route: int(n) for route, n in (await response.json())["by_route"].items()}

    def stop(self) -> None:
        self.process.kill()
        self.process.join()


async def _services(sandbox: Sandbox, data_dir: Path) -> tuple[Services, WebServer]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        spotify_client_id=CLIENT_ID,
        spotify_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri=sandbox.redirect_uri,
        spotify_api_base=f"{sandbox.base}/v1",
        spotify_accounts_base=sandbox.base,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        sort_concurrency=CROWD,
    )
    services = await Services.open(settings)
    await sandbox.callback.start(build_web_app(services.linking))
    return services, sandbox.callback


async def _link(services: Services, discord_id: int, user: str) -> None:
    url = await services.linking.start_link(DiscordMember(discord_id, f"Member {discord_id}", f"member{discord_id}"))
    async with browser_session() as session:
        page = await walk_link_flow(session, url, spotify_user=user)
    assert page.status == 200, page.text


async def _close(services: Services, web: WebServer) -> None:
    await web.stop()
    await services.close()


def lower_bound_requests(songs: int, playlist_sizes: list[int], read_concurrency: int, write_concurrency: int) -> int:
    """Requests on the critical path: reads in rounds, then the longest playlist-writing chains."""
    pages = math.ceil(songs / 50)
    reads = 1 + math.ceil((pages - 1) / read_concurrency)
    chains = sorted((2 + max(0, math.ceil(n / 100) - 1) for n in playlist_sizes), reverse=True)
    workers = [0] * write_concurrency
    for chain in chains:  # greedy makespan of the writing chains over the worker slots
        workers[workers.index(min(workers))] += chain
    return reads + 1 + max(workers, default=0)  # + one audio-features probe


def timed_sequential_requests(base: str, count: int) -> float:
    """Seconds for `count` requests one after another to the sandbox's Web API (GET /v1/me, which
    pays the same latency as every API call), over one keep-alive connection as spotipy uses."""
    with requests.Session() as session:
        start = time.perf_counter()
        for _ in range(count):
            session.get(f"{base}/v1/me", timeout=30)
        return time.perf_counter() - start


def replayed_critical_path_s(
    base: str, access_token: str, songs: int, read_concurrency: int, liked_ids: Sequence[str], chain_songs: int
) -> float:
    """Seconds for the critical path's own requests, replayed with plain requests sessions and
    none of genrebot's code: the first Liked Songs page, the other pages in rounds of
    `read_concurrency` concurrent GETs, the audio-features probe, then the longest playlist's
    chain (create, PUT its first 100 songs, POST each further 100 at its position), one after
    another. What the sandbox itself costs per request (a 50-song page is ~76 kB of JSON to
    build and parse), measured the way `lower_bound_requests` counts the path."""
    api, headers = f"{base}/v1", {"Authorization": f"Bearer {access_token}"}
    uris = [f"spotify:track:{track_id}" for track_id in liked_ids[:chain_songs]]
    per_thread = threading.local()
    sessions: list[requests.Session] = []

    def page(offset: int) -> None:
        if not hasattr(per_thread, "session"):  # one kept-alive connection per reader, as the bot's pool has
            per_thread.session = requests.Session()
            sessions.append(per_thread.session)
        per_thread.session.get(f"{api}/me/tracks", params={"limit": 50, "offset": offset}, headers=headers,
                               timeout=30).raise_for_status()

    offsets = list(range(50, songs, 50))
    with ThreadPoolExecutor(read_concurrency) as pool, requests.Session() as session:
        try:
            return _replay(session, pool, page, offsets, read_concurrency, api, headers, liked_ids, uris)
        finally:
            for reader in sessions:
                reader.close()


def _replay(  # the timed part of replayed_critical_path_s
    session: requests.Session, pool: ThreadPoolExecutor, page: Callable[[int], None], offsets: list[int],
    read_concurrency: int, api: str, headers: dict[str, str], liked_ids: Sequence[str], uris: list[str],
) -> float:
    start = time.perf_counter()
    page(0)
    for first in range(0, len(offsets), read_concurrency):
        list(pool.map(page, offsets[first : first + read_concurrency]))
    session.get(f"{api}/audio-features/", params={"ids": ",".join(liked_ids[:100])}, headers=headers, timeout=30)
    created = session.post(f"{api}/me/playlists", headers=headers, timeout=30, json={
        "name": "Replay · genrebot", "public": False, "collaborative": False, "description": "replay"})
    playlist = f"{api}/playlists/{created.json()['id']}/items"
    session.put(playlist, json={"uris": uris[:100]}, headers=headers, timeout=30).raise_for_status()
    for at in range(100, len(uris), 100):
        session.post(playlist, params={"position": at}, json=uris[at : at + 100], headers=headers,
                     timeout=30).raise_for_status()
    return time.perf_counter() - start


def dates_added(base: str, access_token: str, playlist_ids: Sequence[str]) -> dict[tuple[str, str, int], str]:
    """Each song's "date added" in these playlists, by (playlist, URI, occurrence), read with plain
    requests sessions (not counted: the sandbox is asked for its request counts around the refresh)."""

    def one(playlist_id: str) -> dict[tuple[str, str, int], str]:
        found: dict[tuple[str, str, int], str] = {}
        seen: dict[str, int] = {}
        with requests.Session() as session:
            url: str | None = f"{base}/v1/playlists/{playlist_id}/items?limit=50&offset=0"
            while url:
                page = session.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=30).json()
                for entry in page["items"]:
                    uri = str((entry.get("item") or entry.get("track") or {}).get("uri") or "")
                    seen[uri] = seen.get(uri, 0) + 1
                    found[(playlist_id, uri, seen[uri])] = str(entry.get("added_at"))
                url = page.get("next")
        return found

    with ThreadPoolExecutor(8) as pool:
        return {k: v for part in pool.map(one, playlist_ids) for k, v in part.items()}


def budget_floor_s(requests_made: int, budget: RequestBudget) -> float:
    """The least time the gate allows for that many requests: each full budget past the first
    waits for the window (plus its margin) to roll."""
    return max(0, math.ceil(requests_made / budget.requests) - 1) * (budget.window_s + budget.margin_s)


async def bench_sizes(sizes: tuple[int, ...] = SIZES) -> list[list[object]]:
    rows = []
    for size in sizes:
        sandbox = Sandbox({"member": size}, WebServer("127.0.0.1", 0))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                services, web = await _services(sandbox, Path(tmp))
                await _link(services, 1, "member")
                before = await sandbox.api_requests()
                start = time.perf_counter()
                report = await services.sorting.sort(1, SortOptions())
                wall = time.perf_counter() - start
                made = await sandbox.api_requests() - before
                bound = lower_bound_requests(size, [p.count for p in report.playlists],
                                             services.settings.spotify_read_concurrency, PLAYLIST_WRITE_CONCURRENCY)
                path_s = await asyncio.to_thread(timed_sequential_requests, sandbox.base, bound)
                token = await services.db.tokens.load(1)
                assert token is not None
                liked_ids = [song.track_id for song in await services.db.liked.list(1)]
                replay_s = await asyncio.to_thread(
                    replayed_critical_path_s, sandbox.base, token["access_token"], size,
                    services.settings.spotify_read_concurrency, liked_ids, max(p.count for p in report.playlists),
                )
                budget = RequestBudget(services.settings.spotify_request_budget)
                floor_s = max(path_s, budget_floor_s(made, budget))
                rows.append([f"{size:,}", f"{wall:.2f} s", made, len(report.playlists),
                             f"{bound} requests: {path_s:.2f} s", f"{wall / path_s:.2f}x",
                             f"{replay_s:.2f} s", f"{wall / replay_s:.2f}x",
                             f"{floor_s:.2f} s", f"{wall / floor_s:.2f}x",
                             ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())])
                await _close(services, web)
        finally:
            sandbox.stop()
    return rows


async def bench_refresh() -> tuple[list[list[object]], dict[str, int]]:
    """The weekly refresh of section 3, and its requests by route (e.g. "DELETE playlists")."""
    sandbox = Sandbox({"member": 10_000}, WebServer("127.0.0.1", 0))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            services, web = await _services(sandbox, Path(tmp))
            try:
                await _link(services, 1, "member")
                await services.sorting.sort(1, SortOptions())
            finally:
                await _close(services, web)
            # The refresh comes a week later, with the Spotify gate's 30-second window long empty;
            # run at once on the same services, the first sort's ~130 requests still in that window
            # would hold back whatever the refresh asks past the budget's remaining ~50.
            services = await Services.open(services.settings)
            try:
                async with aiohttp.ClientSession() as session:
                    await session.post(f"{sandbox.base}/_sandbox/like",
                                       params={"user": "member", "count": REFRESH_NEW_SONGS, "seed": REFRESH_SEED})
                token = await services.db.tokens.load(1)
                assert token is not None
                playlist_ids = [r.playlist_id for r in (await services.db.playlists.get_all(1)).values()]
                dated = await asyncio.to_thread(dates_added, sandbox.base, token["access_token"], playlist_ids)
                await asyncio.sleep(1.0)  # Spotify's dates are to the second: the refresh's are later ones
                before, routes_before = await sandbox.api_requests(), await sandbox.requests_by_route()
                start = time.perf_counter()
                report = await services.sorting.sort(1, SortOptions(), incremental=True)
                wall = time.perf_counter() - start
                made = await sandbox.api_requests() - before
                routes = await sandbox.requests_by_route()
                redated = await asyncio.to_thread(dates_added, sandbox.base, token["access_token"],
                                                  [p.playlist_id or "" for p in report.playlists])
            finally:
                await services.close()
            reference_s = await asyncio.to_thread(timed_sequential_requests, sandbox.base, REFRESH_REFERENCE_REQUESTS)
    finally:
        sandbox.stop()
    by_route = {route: n - routes_before.get(route, 0) for route, n in sorted(routes.items())
                if n > routes_before.get(route, 0)}
    new_dates = sum(1 for entry, added in redated.items() if dated.get(entry) != added)
    return [["10,000", report.new_songs, made, f"{wall:.2f} s", f"{reference_s:.2f} s",
             f"{wall / reference_s:.2f}x", f"{new_dates:,}"]], by_route


async def bench_crowd() -> tuple[list[list[object]], list[list[object]]]:
    users = {f"m{i}": CROWD_SONGS for i in range(CROWD)}
    sandbox = Sandbox(users, WebServer("127.0.0.1", 0))
    process = psutil.Process()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            services, web = await _services(sandbox, Path(tmp))
            for i in range(CROWD):
                await _link(services, 1000 + i, f"m{i}")
            idle_rss = process.memory_info().rss
            lags: list[float] = []
            peak = idle_rss
            stop = asyncio.Event()

            async def probe() -> None:
                nonlocal peak
                interval = 0.01
                while not stop.is_set():
                    start = time.perf_counter()
                    await asyncio.sleep(interval)
                    lags.append((time.perf_counter() - start - interval) * 1000)
                    peak = max(peak, process.memory_info().rss)

            prober = asyncio.create_task(probe())
            start = time.perf_counter()
            await asyncio.gather(*(services.sorting.sort(1000 + i, SortOptions()) for i in range(CROWD)))
            wall = time.perf_counter() - start
            stop.set()
            await prober
            await _close(services, web)
    finally:
        sandbox.stop()
    lags.sort()
    q = statistics.quantiles(lags, n=100)
    lag_rows = [[f"{CROWD} x {CROWD_SONGS:,}", f"{wall:.1f} s", len(lags), f"{q[49]:.1f} ms", f"{q[98]:.1f} ms",
                 f"{lags[-1]:.1f} ms"]]
    mem_rows: list[list[object]] = [[f"{idle_rss / 2**20:.0f} MiB", f"{peak / 2**20:.0f} MiB"]]
    return lag_rows, mem_rows


async def main(sizes: tuple[int, ...] = SIZES, only_sizes: bool = False) -> None:
    print(f"Machine: {describe()}; sandbox in a separate process with {LATENCY_S * 1000:.0f} ms per request\n")
    print("2. Sort of N liked songs (first sort: every playlist created)\n")
    print(table(["songs", "wall", "API requests", "playlists", "critical path (GET /me chain)", "ratio",
                 "its own requests replayed", "ratio", "floor with the request budget", "ratio", "stages"],
                await bench_sizes(sizes)))
    if only_sizes:
        return
    print("\n3. Weekly refresh of a 10,000-song library with 20 new songs\n")
    refresh_rows, refresh_routes = await bench_refresh()
    print(table(["library", "new songs", "API requests", "wall",
                 f"reference: {REFRESH_REFERENCE_REQUESTS} sequential GET /me", "ratio",
                 "songs given a new date added"], refresh_rows))
    print("requests by route: " + ", ".join(f"{route} {n}" for route, n in refresh_routes.items()))
    lag_rows, mem_rows = await bench_crowd()
    print(f"\n4. Event-loop lag while {CROWD} members sort at once (10 ms probe)\n")
    print(table(["sorts", "wall", "samples", "p50", "p99", "max"], lag_rows))
    print("\n5. Resident memory of the bot process (model loaded)\n")
    print(table(["idle", f"peak during {CROWD} sorts"], mem_rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    parser = argparse.ArgumentParser(description="End-to-end sorts against the sandbox in another process.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="library sizes for section 2")
    parser.add_argument("--only-sizes", action="store_true", help="run section 2 alone")
    args = parser.parse_args()
    asyncio.run(main(tuple(args.sizes), args.only_sizes))
