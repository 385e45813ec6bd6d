"""End-to-end sorts against the Spotify sandbox with 50 ms per request, in another process.

Prints: (2) sorts of 500 / 5,000 / 20,000 liked songs with wall time, requests and the ratio to
the lower bound (requests that must happen one after another x latency); (3) a weekly refresh
of 10,000 songs with 20 new; (4) event-loop lag while 20 members sort at once; (5) resident
memory idle with the model loaded and during those sorts.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

from bench.machine import describe, table

LATENCY_S = 0.05
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SIZES = (500, 5_000, 20_000)
CROWD = 20
CROWD_SONGS = 1_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_sandbox(port: int, users: dict[str, int], redirect_uri: str,
                   ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    from sandbox.library import synthetic_library
    from sandbox.server import SandboxServer
    from sandbox.state import SandboxState

    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect_uri}, latency_s=LATENCY_S)
    for index, (user, size) in enumerate(users.items()):
        state.add_user(user, user, synthetic_library(size, seed=index + 1, prefix=user))

    async def main() -> None:
        await SandboxServer(state, port=port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


class Sandbox:
    def __init__(self, users: dict[str, int]) -> None:
        self.port = _free_port()
        # Spotify redirects only to registered URIs: register the bot's callback port up front.
        self.callback_port = _free_port()
        self.redirect_uri = f"http://127.0.0.1:{self.callback_port}/callback"
        ready = multiprocessing.get_context("spawn").Event()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve_sandbox, args=(self.port, users, self.redirect_uri, ready), daemon=True
        )
        self.process.start()
        if not ready.wait(120):
            raise RuntimeError("sandbox did not start")
        self.base = f"http://127.0.0.1:{self.port}"

    async def api_requests(self) -> int:
        """API requests the sandbox has answered so far."""
        async with aiohttp.ClientSession() as session, session.get(f"{self.base}/_sandbox/stats") as response:
            return int((await response.json())["api_requests"])

    def stop(self) -> None:
        self.process.kill()
        self.process.join()


async def _runtime(sandbox: Sandbox, data_dir: Path):  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    from bot.runtime import Runtime
    from bot.settings import Settings
    from bot.web import WebServer, build_web_app

    port = sandbox.callback_port
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
    runtime = await Runtime.open(settings)
    web = WebServer(build_web_app(runtime.accounts), "127.0.0.1", port)
    await web.start()
    return runtime, web


async def _link(runtime, discord_id: int, user: str) -> None:  # type: ignore[no-untyped-def]
    url = await runtime.accounts.start_link(discord_id) + f"&sandbox_user={user}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200, await response.text()


def lower_bound_requests(songs: int, playlist_sizes: list[int], read_concurrency: int, write_concurrency: int) -> int:
    """Requests on the critical path: reads in rounds, then the longest playlist-writing chains."""
    pages = math.ceil(songs / 50)
    reads = 1 + math.ceil((pages - 1) / read_concurrency)
    chains = sorted((2 + max(0, math.ceil(n / 100) - 1) for n in playlist_sizes), reverse=True)
    workers = [0] * write_concurrency
    for chain in chains:  # greedy makespan of the writing chains over the worker slots
        workers[workers.index(min(workers))] += chain
    return reads + 1 + max(workers, default=0)  # + one audio-features probe


async def bench_sizes() -> list[list[object]]:
    from bot.services.playlist_plan import SortOptions
    from bot.services.sorting import PLAYLIST_WRITE_CONCURRENCY

    rows = []
    for size in SIZES:
        sandbox = Sandbox({"member": size})
        try:
            with tempfile.TemporaryDirectory() as tmp:
                runtime, web = await _runtime(sandbox, Path(tmp))
                await _link(runtime, 1, "member")
                before = await sandbox.api_requests()
                start = time.perf_counter()
                report = await runtime.sorter.sort(1, SortOptions())
                wall = time.perf_counter() - start
                made = await sandbox.api_requests() - before
                bound = lower_bound_requests(size, [p.count for p in report.playlists],
                                             runtime.settings.spotify_read_concurrency, PLAYLIST_WRITE_CONCURRENCY)
                rows.append([f"{size:,}", f"{wall:.2f} s", made, f"{bound} x 50 ms = {bound * LATENCY_S:.2f} s",
                             f"{wall / (bound * LATENCY_S):.2f}x",
                             ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())])
                await web.stop()
                await runtime.close()
        finally:
            sandbox.stop()
    return rows


async def bench_refresh() -> list[list[object]]:
    from bot.services.playlist_plan import SortOptions

    sandbox = Sandbox({"member": 10_000})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runtime, web = await _runtime(sandbox, Path(tmp))
            await _link(runtime, 1, "member")
            await runtime.sorter.sort(1, SortOptions())
            async with aiohttp.ClientSession() as session:
                await session.post(f"{sandbox.base}/_sandbox/like?user=member&count=20")
            before = await sandbox.api_requests()
            start = time.perf_counter()
            report = await runtime.sorter.sort(1, SortOptions(), incremental=True)
            wall = time.perf_counter() - start
            made = await sandbox.api_requests() - before
            await web.stop()
            await runtime.close()
    finally:
        sandbox.stop()
    return [["10,000", report.new_songs, made, f"{wall:.2f} s"]]


async def bench_crowd() -> tuple[list[list[object]], list[list[object]]]:
    from bot.services.playlist_plan import SortOptions

    users = {f"m{i}": CROWD_SONGS for i in range(CROWD)}
    sandbox = Sandbox(users)
    process = psutil.Process()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runtime, web = await _runtime(sandbox, Path(tmp))
            for i in range(CROWD):
                await _link(runtime, 1000 + i, f"m{i}")
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
            await asyncio.gather(*(runtime.sorter.sort(1000 + i, SortOptions()) for i in range(CROWD)))
            wall = time.perf_counter() - start
            stop.set()
            await prober
            await web.stop()
            await runtime.close()
    finally:
        sandbox.stop()
    lags.sort()
    q = statistics.quantiles(lags, n=100)
    lag_rows = [[f"{CROWD} x {CROWD_SONGS:,}", f"{wall:.1f} s", len(lags), f"{q[49]:.1f} ms", f"{q[98]:.1f} ms",
                 f"{lags[-1]:.1f} ms"]]
    mem_rows = [[f"{idle_rss / 2**20:.0f} MiB", f"{peak / 2**20:.0f} MiB"]]
    return lag_rows, mem_rows


async def main() -> None:
    print(f"Machine: {describe()}; sandbox in a separate process with {LATENCY_S * 1000:.0f} ms per request\n")
    print("2. Sort of N liked songs (first sort: every playlist created)\n")
    print(table(["songs", "wall", "API requests", "lower bound", "ratio", "stages"], await bench_sizes()))
    print("\n3. Weekly refresh of a 10,000-song library with 20 new songs\n")
    print(table(["library", "new songs", "API requests", "wall"], await bench_refresh()))
    lag_rows, mem_rows = await bench_crowd()
    print(f"\n4. Event-loop lag while {CROWD} members sort at once (10 ms probe)\n")
    print(table(["sorts", "wall", "samples", "p50", "p99", "max"], lag_rows))
    print("\n5. Resident memory of the bot process (model loaded)\n")
    print(table(["idle", f"peak during {CROWD} sorts"], mem_rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main())
