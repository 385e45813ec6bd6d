"""Re-sorts and refreshes edit a member's playlists in place: the songs that stay keep their "date
added" in Spotify, a few moved songs cost a few requests, and a failure midway is left for the
next sort to finish from what Spotify holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from bot.services.playlist_plan import PlaylistPlan
from bot.services.root import Services
from bot.services.sorting.writing import CONTENTS_UNKNOWN
from bot.spotify.errors import PlaylistWriteFailed
from bot.spotify.own_playlists import PlaylistSlot, tag_of
from sandbox.faults import FaultAction
from sandbox.library import synthetic_library
from sandbox.records import SandboxPlaylist
from tests.bot.conftest import World

ALICE = 111
LABELS = {"rock": "Rock", "pop": "Pop"}


async def write(world: World, playlists: dict[str, list[str]], new_ids: Sequence[str] = (), *,
                incremental: bool = True, services: Services | None = None) -> dict[str, str]:
    """The sort's write step for a plan made by hand (which songs move is the test's, not the model's);
    the Spotify id of each key's playlist."""
    services = services or world.services
    async with services.linking.client(ALICE) as client:
        outcomes = await services.sorting.writer.write(
            ALICE, client, PlaylistPlan(playlists, labels=LABELS), set(new_ids), incremental=incremental,
            report_progress=lambda _: None,
        )
    return {o.key: o.playlist_id or "" for o in outcomes}


async def songs(world: World, count: int, seed: int) -> list[str]:
    """`count` songs in Spotify's catalogue, newest first (the member's liked order)."""
    tracks = synthetic_library(count, seed=seed, prefix=f"edits{seed}")
    world.sandbox.add_tracks(tracks)
    await world.link(ALICE, "alice")
    return [t.id for t in tracks]


def held(world: World, playlist_id: str) -> list[str]:
    return [uri.rsplit(":", 1)[-1] for uri, _ in world.sandbox.playlists[playlist_id].items]


def dates(playlist: SandboxPlaylist) -> dict[str, datetime]:
    return {uri.rsplit(":", 1)[-1]: added for uri, added in playlist.items}


def api_requests(world: World, since: int) -> int:
    return sum(1 for r in world.sandbox.requests[since:] if r.path.startswith("/v1/"))


def requests_about(world: World, playlist_id: str, since: int) -> list[str]:
    """What was asked about one playlist since `since`: "GET snapshot", "PUT details", "DELETE items"..."""
    kinds = {"": "snapshot", "/items": "items"}
    made = []
    for r in world.sandbox.requests[since:]:
        if f"/playlists/{playlist_id}" in r.path:
            rest = r.path.split(playlist_id, 1)[1]
            made.append(f"{r.method} {'details' if r.method == 'PUT' and not rest else kinds[rest]}")
    return made


async def test_a_refresh_moving_a_few_songs_edits_the_playlists_keeping_the_other_songs_dates(world: World) -> None:
    """Pooling moved 3 old songs from a 1,200-song Rock to Pop, and 2 new songs came: both playlists are edited in
    place (8 requests in all, a look at each one's size after its edit included, where rewriting them took 16), and
    every song that stayed keeps its date added."""
    ids = await songs(world, 1_255, seed=41)
    new, rock, pop = ids[:2], ids[2:1_202], ids[1_202:]
    first = await write(world, {"rock": rock, "pop": pop}, incremental=False)
    rock_dates, pop_dates = (dates(world.sandbox.playlists[first[k]]) for k in ("rock", "pop"))
    movers = [rock[100], rock[500], rock[900]]
    rock_now = [new[0], *(t for t in rock if t not in movers)]
    pop_now = [new[1], *movers, *pop]
    since = len(world.sandbox.requests)
    again = await write(world, {"rock": rock_now, "pop": pop_now}, new)
    assert again == first
    assert held(world, first["rock"]) == rock_now and held(world, first["pop"]) == pop_now
    assert all(dates(world.sandbox.playlists[first["rock"]])[t] == rock_dates[t] for t in rock_now[1:])
    assert all(dates(world.sandbox.playlists[first["pop"]])[t] == pop_dates[t] for t in pop)
    assert requests_about(world, first["rock"], since) == ["PUT details", "DELETE items", "POST items", "GET snapshot"]
    assert requests_about(world, first["pop"], since) == ["PUT details", "POST items", "GET snapshot"]
    assert api_requests(world, since) == 8, "one listing of the member's playlists gave both snapshot ids"


async def test_a_sort_that_changes_nothing_touches_no_playlist(world: World) -> None:
    """Same songs, same names: one listing of the member's playlists (their snapshot ids) and nothing written."""
    ids = await songs(world, 300, seed=42)
    plan = {"rock": ids[:250], "pop": ids[250:]}
    first = await write(world, plan, incremental=False)
    snapshots = {k: world.sandbox.playlists[p].snapshot for k, p in first.items()}
    since = len(world.sandbox.requests)
    await write(world, plan, incremental=False)
    assert api_requests(world, since) == 1
    assert {k: world.sandbox.playlists[p].snapshot for k, p in first.items()} == snapshots


async def test_lost_answers_to_a_removal_and_an_insert_during_a_refresh_still_end_exactly_right(world: World) -> None:
    """The DELETE and the POST of an edit both answered 502 after Spotify did them: each song once, in order."""
    ids = await songs(world, 400, seed=43)
    first = await write(world, {"rock": ids[1:301], "pop": ids[301:]}, incremental=False)
    rock_now = [ids[0], *ids[1:150], *ids[151:301]]
    for method in ("DELETE", "POST"):
        world.sandbox.inject(502, method=method, path_prefix=f"/v1/playlists/{first['rock']}/items",
                             after_processing=True)
    await write(world, {"rock": rock_now, "pop": [ids[150], *ids[301:]]}, [ids[0]])
    assert held(world, first["rock"]) == rock_now
    assert held(world, first["pop"]) == [ids[150], *ids[301:]]
    assert not world.sandbox.faults, "both lost answers happened"


async def test_a_playlist_the_member_edited_by_hand_ends_exactly_as_planned(world: World) -> None:
    """Their own song added, one dragged to the top, one listed twice: Spotify's new snapshot id says the recorded
    songs no longer hold, so the playlist is read back and edited to the plan; the untouched songs keep their date."""
    ids = await songs(world, 320, seed=44)
    own_song = synthetic_library(1, seed=45, prefix="theirs")[0]
    world.sandbox.add_tracks([own_song])
    first = await write(world, {"rock": ids[:300]}, incremental=False)
    playlist = world.sandbox.playlists[first["rock"]]
    with world.sandbox.lock:
        playlist.items.insert(0, playlist.items.pop(120))
        playlist.items.insert(40, playlist.items[10])
        playlist.items.insert(200, (own_song.uri, playlist.items[0][1]))
        playlist.snapshot += 1  # what Spotify does on every change
    before = dates(playlist)
    await write(world, {"rock": ids[:300]}, incremental=False)
    assert held(world, first["rock"]) == ids[:300]
    dragged, twice = ids[120], ids[9]
    assert all(dates(playlist)[t] == before[t] for t in ids[:300] if t not in (dragged, twice))


async def test_a_refresh_failing_midway_leaves_contents_unknown_and_the_next_sort_finishes_it(world: World) -> None:
    """Spotify refuses the edit's inserts (500s): PlaylistWriteFailed, the record says "contents unknown", no song is
    twice; the next sort reads what Spotify holds and ends with exactly the planned songs."""
    ids = await songs(world, 400, seed=46)
    first = await write(world, {"rock": ids[2:302], "pop": ids[302:]}, incremental=False)
    rock_now = [ids[0], ids[1], *ids[2:100], *ids[101:302]]
    world.sandbox.inject(500, 5, method="POST", path_prefix=f"/v1/playlists/{first['rock']}/items")
    with pytest.raises(PlaylistWriteFailed) as failed:
        await write(world, {"rock": rock_now, "pop": [ids[100], *ids[302:]]}, ids[:2])
    assert failed.value.playlist_id == first["rock"] and not failed.value.restored
    record = (await world.services.db.playlists.get_all(ALICE))["rock"]
    assert record.track_count == CONTENTS_UNKNOWN and record.snapshot_id is None
    assert len(set(held(world, first["rock"]))) == len(held(world, first["rock"])) == 299
    await write(world, {"rock": rock_now, "pop": [ids[100], *ids[302:]]}, ids[:2])
    assert held(world, first["rock"]) == rock_now
    record = (await world.services.db.playlists.get_all(ALICE))["rock"]
    assert record.track_count == 301 and record.snapshot_id == f"snap{world.sandbox.playlists[first['rock']].snapshot}"


async def test_a_playlist_renamed_with_the_same_songs_gets_its_new_name_alone(world: World) -> None:
    """A new label for the same songs: the details change, no song is written."""
    ids = await songs(world, 120, seed=47)
    first = await write(world, {"rock": ids}, incremental=False)
    since = len(world.sandbox.requests)
    async with world.services.linking.client(ALICE) as client:
        await world.services.sorting.writer.write(
            ALICE, client, PlaylistPlan({"rock": ids}, labels={"rock": "Rock & Roll"}), set(), incremental=False,
            report_progress=lambda _: None,
        )
    assert world.sandbox.playlists[first["rock"]].name == "Rock & Roll · genrebot"
    assert requests_about(world, first["rock"], since) == ["PUT details", "GET snapshot"]
    assert PlaylistSlot("rock").tag in world.sandbox.playlists[first["rock"]].description


async def test_a_member_with_many_playlists_is_asked_about_genrebots_one_by_one(world: World) -> None:
    """120 playlists of their own (3 pages to list) and one of genrebot's: cheaper to ask if it is followed and
    for its snapshot id than to list them all; then edited in place as usual."""
    ids = await songs(world, 301, seed=48)
    first = await write(world, {"rock": ids[1:]}, incremental=False)
    for n in range(120):
        world.sandbox.add_playlist("alice", f"Mix {n}")
    since = len(world.sandbox.requests)
    await write(world, {"rock": ids[:300]}, ids[:1])
    assert held(world, first["rock"]) == ids[:300]
    asked = [f"{r.method} {r.path}" for r in world.sandbox.requests[since:]]
    assert asked == ["GET /v1/me/playlists", "GET /v1/me/library/contains", f"GET /v1/playlists/{first['rock']}",
                     f"PUT /v1/playlists/{first['rock']}", f"DELETE /v1/playlists/{first['rock']}/items",
                     f"POST /v1/playlists/{first['rock']}/items", f"GET /v1/playlists/{first['rock']}"]


@pytest.mark.parametrize("after", [("GET", "/v1/me/playlists"), ("DELETE", "/items")], ids=["listing", "removal"])
@pytest.mark.parametrize("by_hand", ["adds", "removes"])
async def test_a_member_editing_a_playlist_while_a_refresh_edits_it_is_put_right_by_the_next_sort(
    world: World, by_hand: str, after: tuple[str, str]
) -> None:
    """After the refresh listed the member's playlists (their snapshot ids said Rock was as recorded), or between
    its removal and its insert, the member adds a song of their own (or removes one): Spotify's snapshot id after
    the insert covers their change too, so the refresh must not record the playlist as holding the plan; the next
    sort reads it and ends it exactly as planned."""
    ids = await songs(world, 400, seed=46)
    own_song = synthetic_library(1, seed=47, prefix="theirs")[0]
    world.sandbox.add_tracks([own_song])
    first = await write(world, {"rock": ids[1:301], "pop": ids[301:]}, incremental=False)
    rock_now = [ids[0], *ids[1:150], *ids[151:301]]

    def member_edits(playlist: SandboxPlaylist) -> None:
        if by_hand == "adds":
            playlist.items.insert(0, (own_song.uri, playlist.items[0][1]))
        else:
            del playlist.items[200]

    method, path = after
    world.sandbox.after_request(method, path if method == "GET" else f"/v1/playlists/{first['rock']}{path}",
                                lambda: world.sandbox.edit_by_hand(first["rock"], member_edits))
    await write(world, {"rock": rock_now, "pop": [ids[150], *ids[301:]]}, [ids[0]])
    assert not world.sandbox.request_hooks, "the member edited mid-write"
    await write(world, {"rock": rock_now, "pop": [ids[150], *ids[301:]]})
    assert held(world, first["rock"]) == rock_now


@pytest.mark.parametrize("fault", ["drop", 502])
@pytest.mark.parametrize("step", ["create", "replace", "add", "details", "remove"])
async def test_an_answer_lost_at_any_step_of_writing_leaves_one_playlist_each_song_once(
    world: World, step: str, fault: FaultAction | int
) -> None:
    """Spotify did the write, its answer was lost (the connection dropped, or a 502): creating a playlist, replacing
    its first 100 songs, adding the rest, setting its details, removing songs. Two playlists, each exactly as planned."""
    ids = await songs(world, 400, seed=49)

    def lose(method: str, path_prefix: str) -> None:
        world.sandbox.inject(fault, method=method, path_prefix=path_prefix, after_processing=True)

    in_first_write = {"create": ("POST", "/v1/me/playlists"), "replace": ("PUT", "/v1/playlists/"),
                      "add": ("POST", "/v1/playlists/")}
    if step in in_first_write:
        lose(*in_first_write[step])
    first = await write(world, {"rock": ids[1:301], "pop": ids[301:]}, incremental=False)
    rock_now, pop_now = [ids[0], *ids[1:150], *ids[151:301]], [ids[150], *ids[301:]]
    if step not in in_first_write:
        lose("PUT" if step == "details" else "DELETE", f"/v1/playlists/{first['rock']}")
    again = await write(world, {"rock": rock_now, "pop": pop_now}, [ids[0]])
    assert again == first and not world.sandbox.faults, "the answer was lost"
    assert len(world.sandbox.playlists_of("alice")) == 2
    assert held(world, first["rock"]) == rock_now and held(world, first["pop"]) == pop_now


async def test_a_database_restored_from_an_older_backup_finds_the_playlists_made_since(
    world: World, tmp_path: Path
) -> None:
    """After the backup the member deleted Rock (a sort made a new one) and Pop was edited; restored, the database
    remembers the deleted Rock and Pop's old snapshot: the next sort adopts the new Rock by its tag, makes no third,
    and reads Pop back before editing it. One playlist per genre, each exactly as planned."""
    ids = await songs(world, 400, seed=50)
    first = await write(world, {"rock": ids[:300], "pop": ids[300:]}, incremental=False)
    await world.services.db.backup(tmp_path / "backup.sqlite3")
    world.sandbox.unfollow("alice", first["rock"])
    second = await write(world, {"rock": ids[:299], "pop": [ids[299], *ids[300:]]}, incremental=False)
    assert second["rock"] != first["rock"] and second["pop"] == first["pop"]
    restored = await Services.open(world.services.settings.model_copy(
        update={"data_dir": tmp_path, "database_path": tmp_path / "backup.sqlite3"}), clock=world.clock)
    try:
        plan = {"rock": ids[:298], "pop": [ids[298], ids[299], *ids[300:]]}
        third = await write(world, plan, incremental=False, services=restored)
    finally:
        await restored.close()
    assert third == second
    tags = [tag_of(p.description) for p in world.sandbox.playlists_of("alice")]
    assert sorted(t for t in tags if t) == sorted([PlaylistSlot("rock").tag, PlaylistSlot("pop").tag])
    assert held(world, third["rock"]) == plan["rock"] and held(world, third["pop"]) == plan["pop"]


@pytest.mark.parametrize("change", ["deletes", "renames", "shares", "makes public"])
async def test_a_member_deleting_renaming_or_sharing_a_playlist_while_it_is_written_breaks_nothing(
    world: World, change: str
) -> None:
    """Right after genrebot set Rock's details the member deletes it (an unfollow), renames it, makes it
    collaborative or public: the write ends without an error, and the next sort leaves one followed playlist
    per genre holding its songs (a deleted one is made again, as for any deleted playlist with songs)."""
    ids = await songs(world, 400, seed=51)
    first = await write(world, {"rock": ids[1:301], "pop": ids[301:]}, incremental=False)
    rock = first["rock"]

    def member(playlist: SandboxPlaylist) -> None:
        if change == "deletes":
            playlist.followers.discard("alice")
        elif change == "renames":
            playlist.name = "My rock"
        elif change == "shares":
            playlist.collaborative = True
        else:
            playlist.public = True

    world.sandbox.after_request("PUT", f"/v1/playlists/{rock}", lambda: world.sandbox.edit_by_hand(rock, member))
    plan = {"rock": [ids[0], *ids[1:150], *ids[151:301]], "pop": [ids[150], *ids[301:]]}
    assert await write(world, plan, [ids[0]]) == first
    again = await write(world, plan, [ids[0]])
    assert (again["rock"] != rock) == (change == "deletes") and again["pop"] == first["pop"]
    followed = [p for p in world.sandbox.playlists_of("alice") if tag_of(p.description)]
    assert sorted(p.id for p in followed) == sorted(again.values())
    assert held(world, again["rock"]) == plan["rock"] and held(world, again["pop"]) == plan["pop"]
