"""Writing a member's playlists for real: lost answers, a killed process, an unlink, a lost database
and Spotify's limits never leave a second set of playlists or a song twice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.presenters.errors import error_message
from bot.services.playlist_plan import PlaylistPlan, SortOptions
from bot.services.root import Services
from bot.services.sorting import SortReport
from bot.settings import Settings
from bot.spotify.errors import PlaylistWriteFailed, SpotifyUnavailable
from bot.spotify.own_playlists import PlaylistSlot, tag_of
from sandbox.library import synthetic_library
from storage.records import PlaylistRecord, RunTrigger
from tests.bot.conftest import World, link_directly

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


async def write_plan(world: World, plan: PlaylistPlan, new_ids: Sequence[str] = (), *,
                     incremental: bool = False) -> list[str]:
    """The sort's write step alone, for a plan made by hand (Spotify limits need big or odd plans)."""
    async with world.services.linking.client(ALICE) as client:
        outcomes = await world.services.sorting.writer.write(
            ALICE, client, plan, set(new_ids), incremental=incremental, report_progress=lambda progress: None
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


async def test_a_playlist_spotify_will_not_write_is_named_while_the_others_are_written(world: World) -> None:
    """Two playlists edited by hand need writing; Spotify keeps failing one of them. The others are
    written, so the sort ends in an error naming the playlist left behind (not "nothing was changed")."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, OPTIONS)
    stuck, healed = (world.sandbox.playlists[o.playlist_id or ""] for o in first.playlists[:2])
    for playlist in (stuck, healed):
        playlist.items.pop(0)  # the member removes a song by hand
        playlist.snapshot += 1
    world.sandbox.inject(503, 40, path_prefix=f"/v1/playlists/{stuck.id}/items")
    with pytest.raises(PlaylistWriteFailed) as caught:
        await world.services.sorting.sort(ALICE, OPTIONS)
    assert caught.value.playlist_id == stuck.id and caught.value.name == stuck.name
    assert len(healed.items) == first.playlists[1].count, "the other playlist was written"


async def test_spotify_failing_to_make_playlists_after_another_was_rewritten_is_not_called_nothing_changed(
    world: World,
) -> None:
    """The member edited one playlist and deleted two; Spotify then keeps failing to make playlists. The
    edited one is rewritten, so the error names both playlists not made and counts the ones up to date,
    and what the member reads never says "nothing was changed"."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, OPTIONS)
    edited, *deleted = (world.sandbox.playlists[o.playlist_id or ""] for o in first.playlists[:3])
    edited.items.pop(0)  # the member removes a song by hand
    edited.snapshot += 1
    for playlist in deleted:
        world.sandbox.unfollow("alice", playlist.id)
    world.sandbox.inject(503, 200, path_prefix="/v1/me/playlists", method="POST")
    with pytest.raises(PlaylistWriteFailed) as caught:
        await world.services.sorting.sort(ALICE, OPTIONS)
    assert len(edited.items) == first.playlists[0].count, "the edited playlist was written"
    assert {caught.value.name, *caught.value.others} == {p.name for p in deleted}
    assert caught.value.up_to_date == len(first.playlists) - 2
    assert isinstance(caught.value.__cause__, SpotifyUnavailable)  # an outage: a weekly refresh tries again
    message = error_message(caught.value) or ""
    assert "Nothing was changed" not in message and all(p.name in message for p in deleted)
    assert f"Your other {len(first.playlists) - 2} playlists are up to date." in message


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


async def test_new_liked_songs_that_would_take_a_playlist_past_10000_get_it_written_whole(world: World) -> None:
    """A playlist recorded before genrebot kept snapshot ids, filled by hand to Spotify's 10,000: the
    refresh's insert at the top is refused (400 "Playlist size limit reached"), so the playlist is
    written whole instead and holds exactly its genre's songs."""
    await world.link(ALICE, "alice")
    songs = synthetic_library(10_001, seed=34, prefix="big")
    world.sandbox.add_tracks(songs)
    older, by_hand, new = songs[:9_990], songs[9_990:10_000], songs[10_000:]
    await write_plan(world, PlaylistPlan({"rock": [t.id for t in older]}))
    record = (await world.services.db.playlists.get_all(ALICE))["rock"]
    await world.services.db.playlists.upsert(  # as an older release left it
        replace(record, snapshot_id=None, track_ids=None, details_digest=None))
    rock = world.sandbox.playlists[record.playlist_id]
    rock.items.extend((t.uri, rock.items[-1][1]) for t in by_hand)  # the member fills it up
    rock.snapshot += 1
    target = [t.id for t in [*new, *older]]
    assert await write_plan(world, PlaylistPlan({"rock": target}), [t.id for t in new], incremental=True) \
        == ["Rock · genrebot"]
    assert [uri for uri, _ in rock.items] == [f"spotify:track:{t}" for t in target]


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



# --- playlists the current sort does not plan --------------------------------------------------


def genrebot_playlists_holding(world: World, uri: str, user: str = "alice") -> list[str]:
    return [p.name for p in world.sandbox.playlists_of(user) if tag_of(p.description) and uri in dict(p.items)]


async def test_a_family_fallen_below_the_minimum_has_its_playlist_emptied_and_kept(world: World) -> None:
    """Alice un-likes most of her smallest family's songs: its playlist keeps its link, holds no songs,
    and says why, instead of last week's songs; the next sort at that size fills it again."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions())
    smallest = min(first.playlists, key=lambda o: (o.count, o.key))
    assert smallest.playlist_id is not None
    gone = [uri.removeprefix("spotify:track:") for uri, _ in world.sandbox.playlists[smallest.playlist_id].items]
    world.sandbox.unlike("alice", gone[2:])
    second = await world.services.sorting.sort(ALICE, SortOptions())
    assert smallest.key not in {o.key for o in second.playlists}
    playlist = world.sandbox.playlists[smallest.playlist_id]
    assert "alice" in playlist.followers and playlist.items == []
    assert "fewer than 5" in playlist.description and tag_of(playlist.description) == PlaylistSlot(smallest.key).tag
    assert [o.playlist_id for o in second.emptied] == [smallest.playlist_id]
    liked = {t.uri for t, _ in world.sandbox.users["alice"].liked}
    for playlist in world.sandbox.playlists_of("alice"):
        assert {uri for uri, _ in playlist.items} <= liked, f"{playlist.name} holds songs no longer liked"
    again = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    refilled = {o.key: o for o in again.playlists}.get(smallest.key)
    if refilled is not None:  # its two songs may have joined another family, pooled by artist
        assert refilled.playlist_id == smallest.playlist_id and not refilled.created


async def six_genre_playlist(world: World, key: str = "rap", name: str = "Rap · genrebot", songs: int = 12) -> str:
    """A playlist the six-genre model made for Alice, recorded under its key as that release did."""
    liked = [t for t, _ in world.sandbox.users["alice"].liked]
    made = world.sandbox.add_playlist(
        "alice", name, liked[:songs],
        description=f"Songs from your Liked Songs, sorted by genrebot on 2026-10-01 ({songs} songs). "
                    f"{PlaylistSlot(key).tag}",
    )
    url = f"https://open.spotify.com/playlist/{made.id}"
    await world.services.db.playlists.upsert(PlaylistRecord(ALICE, key, made.id, url, songs, world.clock()))
    return made.id


async def test_a_playlist_of_an_older_models_key_is_taken_over_by_its_new_key(world: World) -> None:
    """'Rap · genrebot', made by the six-genre model and stored under 'rap', becomes 'Hip-Hop · genrebot':
    the same playlist, renamed and refilled, its record moved to 'hip-hop'; no second playlist."""
    await world.link(ALICE, "alice")
    rap = world.sandbox.playlists[await six_genre_playlist(world)]
    report = await world.services.sorting.sort(ALICE, SortOptions())
    hip_hop = {o.key: o for o in report.playlists}["hip-hop"]
    assert hip_hop.playlist_id == rap.id and not hip_hop.created
    assert rap.name == "Hip-Hop · genrebot" and tag_of(rap.description) == PlaylistSlot("hip-hop").tag
    assert len(rap.items) == hip_hop.count
    assert len(world.sandbox.playlists_of("alice")) == len(report.playlists)
    records = await world.services.db.playlists.get_all(ALICE)
    assert "rap" not in records and records["hip-hop"].playlist_id == rap.id


async def test_a_weekly_refresh_takes_over_an_older_models_playlist_too(world: World) -> None:
    """The first refresh after the upgrade (incremental): 'Rap · genrebot' becomes 'Hip-Hop · genrebot'."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(genres=("jazz",)))  # Liked Songs read once
    rap = world.sandbox.playlists[await six_genre_playlist(world)]
    world.sandbox.like("alice", synthetic_library(3, seed=78, prefix="week"))
    report = await world.services.sorting.sort(ALICE, SortOptions(), incremental=True, trigger=RunTrigger.SCHEDULE)
    assert report.new_songs == 3
    hip_hop = {o.key: o for o in report.playlists}["hip-hop"]
    assert hip_hop.playlist_id == rap.id and rap.name == "Hip-Hop · genrebot" and len(rap.items) == hip_hop.count
    assert "Rap · genrebot" not in [p.name for p in world.sandbox.playlists_of("alice")]


async def test_a_takeover_cut_short_by_spotify_converges_on_the_next_sort(world: World) -> None:
    """The record moved, then Spotify failed the rename: the next sort renames and fills the same
    playlist, and no second Hip-Hop playlist is ever made."""
    await world.link(ALICE, "alice")
    rap_id = await six_genre_playlist(world)
    world.sandbox.inject(503, 40, method="PUT", path_prefix=f"/v1/playlists/{rap_id}")
    with pytest.raises(PlaylistWriteFailed):  # the other playlists were written: this one is named
        await world.services.sorting.sort(ALICE, SortOptions())
    assert (await world.services.db.playlists.get_all(ALICE))["hip-hop"].playlist_id == rap_id
    world.sandbox.faults.clear()
    report = await world.services.sorting.sort(ALICE, SortOptions())
    assert {o.key: o.playlist_id for o in report.playlists}["hip-hop"] == rap_id
    assert [p.name for p in world.sandbox.playlists_of("alice")].count("Hip-Hop · genrebot") == 1
    assert world.sandbox.playlists[rap_id].name == "Hip-Hop · genrebot"


async def test_an_older_models_playlist_whose_new_key_has_one_already_is_emptied_saying_where_its_songs_went(
    world: World,
) -> None:
    """A member who sorted after the upgrade before this release has 'Rap' and 'Hip-Hop': Rap is emptied."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions())
    rap = world.sandbox.playlists[await six_genre_playlist(world)]
    report = await world.services.sorting.sort(ALICE, SortOptions())
    assert {o.playlist_id for o in report.playlists} == {o.playlist_id for o in first.playlists}
    assert rap.items == [] and "“Hip-Hop · genrebot”" in rap.description and rap.name == "Rap · genrebot"
    assert [o.playlist_id for o in report.emptied] == [rap.id]


async def test_picks_and_the_other_level_leave_the_other_playlists_alone(world: World) -> None:
    """A sort of Jazz alone, or by genre, empties none of the family playlists the full sort made."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions())
    held = {p.id: list(p.items) for p in world.sandbox.playlists_of("alice")}
    picked = await world.services.sorting.sort(ALICE, SortOptions(genres=("jazz",)))
    by_genre = await world.services.sorting.sort(ALICE, SortOptions(level="genre"))
    assert picked.emptied == by_genre.emptied == []
    for outcome in first.playlists:
        assert outcome.playlist_id is not None
        if outcome.key != "jazz":
            assert world.sandbox.playlists[outcome.playlist_id].items == held[outcome.playlist_id]


async def test_a_dry_run_shows_what_would_be_emptied_and_empties_nothing(world: World) -> None:
    """The preview names a family fallen short as emptied, and leaves its songs where they are."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    smallest = min(first.playlists, key=lambda o: (o.count, o.key))
    assert smallest.playlist_id is not None
    before = list(world.sandbox.playlists[smallest.playlist_id].items)
    preview = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=smallest.count + 1, dry_run=True))
    assert smallest.playlist_id in [o.playlist_id for o in preview.emptied]
    assert world.sandbox.playlists[smallest.playlist_id].items == before


async def test_a_playlist_the_member_deleted_is_not_made_again_only_to_be_empty(world: World) -> None:
    """Alice deleted the playlist of a family that has since fallen short: it stays deleted."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    smallest = min(first.playlists, key=lambda o: (o.count, o.key))
    assert smallest.playlist_id is not None
    world.sandbox.unfollow("alice", smallest.playlist_id)
    made = world.sandbox.count("POST", "/v1/me/playlists")
    second = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=smallest.count + 1))
    assert world.sandbox.count("POST", "/v1/me/playlists") == made and second.emptied == []
    assert "alice" not in world.sandbox.playlists[smallest.playlist_id].followers


async def test_a_genre_fallen_short_empties_its_continuations_too(world: World) -> None:
    """Every part of a playlist a sort of every family no longer has is emptied; the planned one is written."""
    await world.link(ALICE, "alice")
    a, b, c = [t.id for t, _ in world.sandbox.users["alice"].liked[:3]]
    await write_plan(world, PlaylistPlan({"rock": [a], "pop": [b]}))
    (pop,) = [p for p in world.sandbox.playlists_of("alice") if p.name.startswith("Pop")]
    # as if 'pop' had once needed a second part
    extra = world.sandbox.add_playlist("alice", "Pop · genrebot (2)", [world.sandbox.tracks[c]],
                                       description=PlaylistSlot("pop", 2).tag)
    await world.services.db.playlists.upsert(PlaylistRecord(ALICE, "pop#2", extra.id, "u", 1, world.clock()))
    async with world.services.linking.client(ALICE) as client:
        outcomes = await world.services.sorting.writer.write(
            ALICE, client, PlaylistPlan({"rock": [a, b]}, every_genre=True, min_playlist_size=2), set(),
            incremental=False, report_progress=lambda progress: None,
        )
    assert [(o.key, o.emptied) for o in outcomes] == [("rock", False), ("pop", True), ("pop", True)]
    assert pop.items == extra.items == []


async def test_a_lost_database_adopts_an_older_models_playlist_under_its_new_key(world: World, tmp_path: Path) -> None:
    """After the database is lost, 'Rap · genrebot' (tagged by the six-genre model) is still the
    member's hip-hop playlist: adopted, renamed and refilled, not left beside a second one."""
    await world.link(ALICE, "alice")
    rap = world.sandbox.playlists[await six_genre_playlist(world)]
    fresh = await Services.open(world.services.settings.model_copy(update={"data_dir": tmp_path / "fresh"}),
                                clock=world.clock)
    try:
        await link_directly(fresh, ALICE, "alice")
        report = await fresh.sorting.sort(ALICE, SortOptions())
        records = await fresh.db.playlists.get_all(ALICE)
    finally:
        await fresh.close()
    hip_hop = {o.key: o for o in report.playlists}["hip-hop"]
    assert hip_hop.playlist_id == rap.id and not hip_hop.created
    assert rap.name == "Hip-Hop · genrebot" and tag_of(rap.description) == PlaylistSlot("hip-hop").tag
    assert len(rap.items) == hip_hop.count and records["hip-hop"].playlist_id == rap.id
    assert_one_playlist_per_genre_holding_its_songs(world, report)
