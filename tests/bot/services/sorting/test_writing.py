"""Writing a member's playlists for real: lost answers, a killed process, an unlink, a lost database
and Spotify's limits never leave a second set of playlists or a song twice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.services.linking import DiscordMember
from bot.services.playlist_plan import PlaylistPlan, SortOptions
from bot.services.root import Services
from bot.services.sorting import SortReport
from bot.settings import Settings
from bot.spotify.own_playlists import PlaylistSlot, tag_of
from sandbox.browser import approve
from sandbox.library import synthetic_library
from tests.bot.conftest import World

ALICE = 111
OPTIONS = SortOptions(min_playlist_size=1)
REPO = Path(__file__).resolve().parents[4]


def playlists_by_slot(world: World, user: str = "alice") -> dict[str, list[str]]:
    """The member's tagged playlists in Spotify, by tag; fails on two for one slot."""
    found: dict[str, list[str]] = {}
    for playlist in world.sandbox.playlists_of(user):
        tag = tag_of(playlist.description)
        assert tag is not None, f"an untagged playlist {playlist.name!r}"
        assert tag not in found, f"two playlists for {tag}"
        found[tag] = [uri for uri, _ in playlist.items]
    return found


def assert_one_playlist_per_genre_holding_its_songs(world: World, report: SortReport) -> None:
    held = playlists_by_slot(world)
    assert set(held) == {PlaylistSlot(o.key).tag for o in report.playlists}
    for outcome in report.playlists:
        assert len(held[PlaylistSlot(outcome.key).tag]) == outcome.count
        assert len(set(held[PlaylistSlot(outcome.key).tag])) == outcome.count, "a song twice"


async def write_plan(world: World, plan: PlaylistPlan, new_ids: Sequence[str] = ()) -> list[str]:
    """The sort's write step alone, for a plan made by hand (Spotify limits need big or odd plans)."""
    async with world.services.linking.client(ALICE) as client:
        outcomes = await world.services.sorting.writer.write(
            ALICE, client, plan, set(new_ids), incremental=False, report_progress=lambda progress: None
        )
    return [o.name for o in outcomes]


# --- answers lost, a process killed (issue #14, item 9) -----------------------------------------


async def test_answers_lost_after_spotify_wrote_leave_one_playlist_per_genre(world: World) -> None:
    """Creates and adds answered 502 after they happened: one playlist per genre, each song once."""
    await world.link(ALICE, "alice")
    world.sandbox.inject(502, 3, method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    world.sandbox.inject("drop", 2, method="POST", path_prefix="/v1/playlists/", after_processing=True)
    report = await world.services.sorting.sort(ALICE, OPTIONS)
    assert_one_playlist_per_genre_holding_its_songs(world, report)
    again = await world.services.sorting.sort(ALICE, OPTIONS)
    assert {o.playlist_id for o in again.playlists} == {o.playlist_id for o in report.playlists}
    assert not any(o.created for o in again.playlists)


async def test_unlink_and_link_again_reuses_the_playlists_that_stayed_in_spotify(world: World) -> None:
    """/unlink says the playlists stay in Spotify; after linking again, the next sort updates them."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, OPTIONS)
    await world.services.linking.unlink(ALICE)
    await world.link(ALICE, "alice")
    again = await world.services.sorting.sort(ALICE, OPTIONS)
    assert {o.playlist_id for o in again.playlists} == {o.playlist_id for o in first.playlists}
    assert not any(o.created for o in again.playlists)
    assert_one_playlist_per_genre_holding_its_songs(world, again)


async def test_a_lost_database_adopts_the_playlists_already_in_spotify(world: World, tmp_path: Path) -> None:
    """A fresh database (a new data directory) links the same account and finds its playlists."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, OPTIONS)
    fresh = await Services.open(world.services.settings.model_copy(update={"data_dir": tmp_path / "fresh"}),
                                clock=world.clock)
    try:
        await link_directly(fresh, ALICE, "alice")
        again = await fresh.sorting.sort(ALICE, OPTIONS)
    finally:
        await fresh.close()
    assert {o.playlist_id for o in again.playlists} == {o.playlist_id for o in first.playlists}
    assert_one_playlist_per_genre_holding_its_songs(world, again)


async def link_directly(services: Services, discord_id: int, spotify_user: str) -> None:
    """The OAuth flow without the web hop: confirmation (binding a browser), Spotify's consent page
    (Agree), the redirect read, then the callback's service call from the same browser."""
    member = DiscordMember(discord_id, f"Member {discord_id}", f"member{discord_id}")
    state = parse_qs(urlparse(await services.linking.start_link(member)).query)["state"][0]
    browser = "browser-of-the-test"
    authorize_url = await services.linking.confirm_link(state, browser) + f"&sandbox_user={spotify_user}"
    async with aiohttp.ClientSession() as session:
        response = await approve(session, authorize_url, follow=False)
        query = parse_qs(urlparse(response.headers["Location"]).query)
    await services.linking.complete_link(state=query["state"][0], code=query["code"][0], error=None, browser=browser)


CHILD_SORT = """
import asyncio, sys
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.settings import load_settings

async def main() -> None:
    services = await Services.open(load_settings())
    try:
        await services.sorting.sort(int(sys.argv[1]), SortOptions(min_playlist_size=1))
    finally:
        await services.close()

asyncio.run(main())
"""


def environment_for(settings: Settings) -> dict[str, str]:
    """The settings as the environment a `genrebot` process reads them from."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "SPOTIPY_", "DISCORD_", "TOKEN_"))}
    assert settings.token_encryption_key is not None and settings.spotify_client_secret is not None
    env.update(
        DATA_DIR=str(settings.data_dir),
        TOKEN_ENCRYPTION_KEY=settings.token_encryption_key.get_secret_value(),
        SPOTIFY_CLIENT_ID=settings.spotify_client_id or "",
        SPOTIFY_CLIENT_SECRET=settings.spotify_client_secret.get_secret_value(),
        SPOTIFY_REDIRECT_URI=settings.spotify_redirect_uri,
        SPOTIFY_API_BASE=settings.spotify_api_base,
        SPOTIFY_ACCOUNTS_BASE=settings.spotify_accounts_base,
    )
    return env


async def test_a_sort_killed_while_writing_leaves_nothing_the_next_sort_duplicates(world: World, tmp_path: Path) -> None:
    """kill -9 right after Spotify made a playlist whose answer never came: the next sort adopts it."""
    await world.link(ALICE, "alice")
    settings = world.services.settings
    await world.services.close()  # the sort runs in another process, as `genrebot run` would
    world.sandbox.inject("hang", 1, method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD_SORT, str(ALICE), cwd=tmp_path, env=environment_for(settings),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(2400):  # until Spotify has made the playlist whose answer now hangs
            if not world.sandbox.faults and world.sandbox.playlists_of("alice") or child.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert child.returncode is None, (await child.communicate())[1].decode()[-2000:]
        assert not world.sandbox.faults, "the child never reached the playlist writes"
    finally:
        child.kill()  # SIGKILL: no clean-up of any kind
        await child.wait()
    orphans = len(world.sandbox.playlists_of("alice"))
    assert orphans >= 1
    restarted = await Services.open(settings, clock=world.clock)
    try:
        report = await restarted.sorting.sort(ALICE, OPTIONS)
    finally:
        await restarted.close()
    assert_one_playlist_per_genre_holding_its_songs(world, report)


# --- Spotify's limits (issue #14, item 14) ---------------------------------------------------------


async def test_a_genre_past_10000_songs_continues_in_a_second_playlist_kept_across_resorts(world: World) -> None:
    """10,250 songs: "Rock · genrebot" holds the newest 10,000, "Rock · genrebot (2)" the rest; a re-sort reuses both."""
    await world.link(ALICE, "alice")
    songs = synthetic_library(10_250, seed=31, prefix="big")
    world.sandbox.add_tracks(songs)
    plan = PlaylistPlan({"rock": [t.id for t in songs]})
    assert await write_plan(world, plan) == ["Rock · genrebot", "Rock · genrebot (2)"]
    held = playlists_by_slot(world)
    assert held[PlaylistSlot("rock").tag] == [t.uri for t in songs[:10_000]]
    assert held[PlaylistSlot("rock", 2).tag] == [t.uri for t in songs[10_000:]]
    made = world.sandbox.count("POST", "/v1/me/playlists")
    await write_plan(world, plan)
    assert world.sandbox.count("POST", "/v1/me/playlists") == made, "a re-sort makes no playlist"
    assert len(world.sandbox.playlists_of("alice")) == 2


async def test_a_continuation_no_longer_needed_is_emptied_not_left_with_old_songs(world: World) -> None:
    """When the genre shrinks under 10,000, its second playlist is emptied and kept for later."""
    await world.link(ALICE, "alice")
    songs = synthetic_library(10_050, seed=32, prefix="big")
    world.sandbox.add_tracks(songs)
    await write_plan(world, PlaylistPlan({"rock": [t.id for t in songs]}))
    assert await write_plan(world, PlaylistPlan({"rock": [t.id for t in songs[:9_000]]})) == ["Rock · genrebot"]
    held = playlists_by_slot(world)
    assert len(held[PlaylistSlot("rock").tag]) == 9_000 and held[PlaylistSlot("rock", 2).tag] == []


async def test_a_genre_name_too_long_for_a_description_still_gets_its_playlist(world: World) -> None:
    """A model's 400-character, multi-line genre name: the playlist is made, with no 500 from Spotify."""
    await world.link(ALICE, "alice")
    key = "very\nlong " + "progressive " * 33
    songs = [t for t, _ in world.sandbox.users["alice"].liked[:3]]
    await write_plan(world, PlaylistPlan({key: [t.id for t in songs]}))
    (playlist,) = world.sandbox.playlists_of("alice")
    assert len(playlist.name) <= 100 and len(playlist.description) <= 300 and "\n" not in playlist.description
    assert tag_of(playlist.description) == PlaylistSlot(key).tag
    assert not [r for r in world.sandbox.requests if r.status >= 500]


async def test_a_dry_run_shows_a_continuation_without_writing(world: World) -> None:
    """The preview names both parts of a genre past 10,000 songs and touches nothing."""
    await world.link(ALICE, "alice")
    songs = synthetic_library(10_001, seed=33, prefix="big")
    outcomes = await world.services.sorting.writer.preview(ALICE, PlaylistPlan({"rock": [t.id for t in songs]}), set())
    assert [(o.name, o.count) for o in outcomes] == [("Rock · genrebot", 10_000), ("Rock · genrebot (2)", 1)]
    assert world.sandbox.playlists == {}


async def test_a_first_sort_reads_nothing_back_from_the_playlists_it_has_just_made(world: World) -> None:
    """A playlist genrebot has just made is empty: filling one of 101 to 1,000 songs reads none of its songs first."""
    # 1,000 songs: no playlist is past the sizes a rewrite reads back, whatever the model's spread.
    world.sandbox.add_user("erin", "Erin", synthetic_library(1_000, seed=5, prefix="erin"))
    await world.link(222, "erin")
    since = len(world.sandbox.requests)
    report = await world.services.sorting.sort(222, OPTIONS)
    assert any(100 < p.count <= 1000 and p.created for p in report.playlists)  # sizes whose old songs a rewrite reads
    assert [r.path for r in world.sandbox.requests[since:] if r.path.endswith("/items") and r.method == "GET"] == []

