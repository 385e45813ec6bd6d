"""`genrebot demo`: the whole genrebot flow on this machine, with no credentials at all.

Starts the Spotify sandbox in-process, links a demo member through the real OAuth flow (the
consent page redirects to our callback app with a code, which is exchanged for tokens), runs
the same `SortService` that `/sort` uses on their Liked Songs and then on their "Road Trip"
playlist (chosen by name, as a member would type it in `/sort source:`), and prints what the
member would see in Discord for each. The sandbox's state is saved in the data directory, so a
second run updates the same playlists.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.member_browser import browser_session, walk_link_flow
from bot.presenters.sort_reports import progress_text, sort_embed
from bot.services.linking import DiscordMember
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.sorting import SortProgress, SortReport
from bot.settings import Settings, default_data_dir
from bot.web import WebServer, build_web_app
from music import LIKED_SONGS, SortSource
from sandbox.demo import demo_sandbox
from storage.records import RunTrigger

DEMO_DISCORD_ID = 100000000000000001
DEMO_CLIENT_ID = "genrebot-demo-client"
DEMO_CLIENT_SECRET = "genrebot-demo-secret"  # only ever valid against the local sandbox
DEMO_PLAYLIST = "Road Trip"  # the demo member's own playlist (sandbox.demo), sorted after Liked Songs
STAND_IN_NOTE = ("Playlist links point at the local Spotify stand-in's playlists: they have Spotify's form "
                 "but do not exist on open.spotify.com.")
STAND_IN_MARK = " (stand-in only)"


def default_demo_dir(checkout: Path | None = None) -> Path:
    """This checkout's own demo folder in the user data directory (two checkouts never share state).

    Keyed by the checkout's path (for an installed package, the environment's), so a fresh clone
    starts afresh and a second run of the same checkout updates its playlists.
    """
    root = (checkout or Path(__file__).resolve().parent.parent).resolve()
    key = hashlib.sha256(str(root).encode()).hexdigest()[:10]
    return default_data_dir() / "demo" / f"{root.name}-{key}"


@dataclass
class DemoResult:
    report: SortReport  # Liked Songs
    linked_as: str
    chart_path: Path
    seconds: float
    timings: dict[str, float]
    playlist_report: SortReport  # the demo member's own playlist
    playlist_chart_path: Path
    data_dir: Path
    family_labels: dict[str, str]  # family key -> its label in the model's taxonomy

    def as_json(self) -> dict[str, Any]:
        return {
            **_report_json(self.report, self.family_labels),
            "seconds": round(self.seconds, 3),
            "model_version": self.report.model_version,
            "chart": str(self.chart_path),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "playlist_source": {**_report_json(self.playlist_report, self.family_labels),
                                "chart": str(self.playlist_chart_path)},
            "stand_in_note": STAND_IN_NOTE,
            "data_dir": str(self.data_dir),
        }


def _report_json(report: SortReport, family_labels: dict[str, str]) -> dict[str, Any]:
    return {
        "source": report.source.name,
        "playlists": [
            # stand_in: the link has Spotify's form; the playlist exists only in the sandbox
            {"name": o.name, "family": o.label, "id": o.playlist_id, "url": o.url, "count": o.count,
             "created": o.created, "stand_in": True}
            for o in report.playlists
        ],
        "families": {family_labels[k]: n for k, n in report.genre_mix.items()},
        "unsorted": report.unsorted,
        "total_songs": report.total_songs,
        "skipped": report.skipped,
        # of the songs placed, how many are by artists the model met in training (it is surer of those)
        "known_artists": {"songs": report.known_artists.songs, "known": report.known_artists.known},
    }


class ProgressLine:
    """One self-rewriting status line on a terminal; plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = ""

    def show(self, text: str) -> None:
        if not self.enabled or text == self.last:
            return
        self.last = text
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.last:
            sys.stderr.write("\n")


async def run_demo(data_dir: Path, *, show_progress: bool = True) -> DemoResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    line = ProgressLine(show_progress)
    data_dir.mkdir(parents=True, exist_ok=True)
    web = WebServer("127.0.0.1", 0)
    redirect_uri = f"http://127.0.0.1:{web.bind()}/callback"  # the port is ours from here on
    try:
        line.show("Starting the local Spotify sandbox…")
        async with demo_sandbox(
            data_dir / "sandbox-state.json", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri
        ) as base:
            line.show("Loading the model and the database…")
            step = time.perf_counter()
            services = await Services.open(_demo_settings(data_dir, base, redirect_uri))
            timings["start-up"] = time.perf_counter() - step
            try:
                await web.start(build_web_app(services.linking))
                line.show("Linking the demo member through Spotify's consent page…")
                step = time.perf_counter()
                linked_as = await _link_through_oauth(services, DEMO_DISCORD_ID)
                timings["link"] = time.perf_counter() - step

                source: SortSource = LIKED_SONGS

                async def on_progress(progress: SortProgress) -> None:
                    line.show(progress_text(progress, source))

                step = time.perf_counter()
                report = await services.sorting.sort(
                    DEMO_DISCORD_ID, SortOptions(), trigger=RunTrigger.DEMO, progress=on_progress
                )
                timings["sort"] = time.perf_counter() - step
                step = time.perf_counter()
                source = await services.sources.resolve(DEMO_DISCORD_ID, DEMO_PLAYLIST)  # as typed in /sort source:
                playlist_report = await services.sorting.sort(
                    DEMO_DISCORD_ID, SortOptions(), source=source, trigger=RunTrigger.DEMO, progress=on_progress
                )
                timings["sort playlist"] = time.perf_counter() - step
                taxonomy = services.classifier.taxonomy
            finally:
                await web.stop()
                await services.close()
    finally:
        await web.stop()  # releases the port even when the sandbox or the services failed to start
    line.close()
    chart_path = data_dir / "charts" / "demo-genre-mix.png"
    chart_path.parent.mkdir(parents=True, exist_ok=True)
    chart_path.write_bytes(report.chart_png or b"")
    playlist_chart_path = data_dir / "charts" / "demo-playlist-genre-mix.png"
    playlist_chart_path.write_bytes(playlist_report.chart_png or b"")
    labels = {family: taxonomy.label(family, "family") for family in taxonomy}
    return DemoResult(report, linked_as, chart_path, time.perf_counter() - started, timings, playlist_report,
                      playlist_chart_path, data_dir, labels)


def _demo_settings(data_dir: Path, sandbox_base: str, redirect_uri: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_path=data_dir / "genrebot-demo.sqlite3",
        spotify_client_id=DEMO_CLIENT_ID,
        spotify_client_secret=DEMO_CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri=redirect_uri,
        spotify_api_base=f"{sandbox_base}/v1",
        spotify_accounts_base=sandbox_base,
        _env_file=None,  # type: ignore[call-arg]
    )


async def _link_through_oauth(services: Services, discord_id: int) -> str:
    """What a member's browser does with the /link button: genrebot's confirmation page, Spotify's
    consent page (Agree), the result page."""
    url = await services.linking.start_link(DiscordMember(discord_id, "Demo member", "demo_member"))
    async with browser_session() as session:
        page = await walk_link_flow(session, url)
    if page.status != 200 or "is now linked" not in page.text:
        raise RuntimeError(f"linking the demo member failed (HTTP {page.status})")
    user = await services.linking.member(discord_id)
    return str(user.display_name) if user else "?"


def render_text(result: DemoResult) -> str:
    """The embeds the member would get in Discord (Liked Songs, then the playlist), as plain text."""
    lines = [f"Linked as {result.linked_as}."]
    for report, chart in ((result.report, result.chart_path), (result.playlist_report, result.playlist_chart_path)):
        embed = sort_embed(report)
        lines.extend(["", f"== {embed.title} =="])
        lines.extend((embed.description or "").splitlines())
        for field in embed.fields:
            lines.extend(f"{field.name}: {field.value}".splitlines())
        lines.append("Families: " + ", ".join(f"{result.family_labels[k]} {n}" for k, n in report.genre_mix.items()))
        lines.append(f"Genre-mix chart: {chart}")
    # Every Spotify-looking link here points at the stand-in's playlists: say so on its line.
    lines = [line + STAND_IN_MARK if "https://open.spotify.com/" in line else line for line in lines]
    lines.append("")
    lines.append("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()))
    lines.append(f"Total: {result.seconds:.1f}s")
    lines.append(STAND_IN_NOTE)
    lines.append(f"Demo state: {result.data_dir} (--data-dir chooses another; delete it to start afresh)")
    return "\n".join(lines)


def main(data_dir: Path, as_json: bool) -> int:
    result = asyncio.run(run_demo(data_dir, show_progress=True))
    print(json.dumps(result.as_json()) if as_json else render_text(result))
    return 0
