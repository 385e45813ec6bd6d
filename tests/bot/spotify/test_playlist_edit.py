"""Planning an edit in place: removals then inserts that reach the target exactly, keeping the
most songs where they are, or no edit when Spotify could not carry it out."""

from __future__ import annotations

import random

from bot.spotify.playlist_edit import ItemsEdit, plan_edit, rewrite_requests

SONGS = [f"spotify:track:{n:022d}" for n in range(400)]


def carried_out(current: list[str], edit: ItemsEdit) -> list[str]:
    """What Spotify makes of `current`: every occurrence of each removed URI goes, then each insert lands at its position."""
    items = [uri for uri in current if uri not in set(edit.remove)]
    for position, uris in edit.inserts:
        assert position <= len(items) and len(uris) <= 100
        items[position:position] = uris
    return items


def test_songs_that_left_go_and_new_ones_come_in_where_the_target_has_them() -> None:
    """Two songs moved out and a new one on top: one removal request, one insert at 0, the rest kept."""
    current = SONGS[1:200]
    target = [SONGS[0], *SONGS[1:50], *SONGS[51:120], *SONGS[121:200]]
    edit = plan_edit(current, target)
    assert edit is not None and carried_out(current, edit) == target
    assert edit.remove == (SONGS[50], SONGS[120]) and edit.inserts == ((0, (SONGS[0],)),)
    assert (edit.requests, edit.kept) == (2, 197)


def test_a_song_moved_by_hand_is_taken_out_and_put_back_in_place() -> None:
    """The member dragged one song to the top: only that song is removed and re-inserted."""
    target = SONGS[:10]
    current = [SONGS[7], *SONGS[:7], *SONGS[8:10]]
    edit = plan_edit(current, target)
    assert edit is not None and carried_out(current, edit) == target
    assert edit.remove == (SONGS[7],) and edit.inserts == ((7, (SONGS[7],)),) and edit.kept == 9


def test_a_song_listed_twice_is_removed_and_put_back_once() -> None:
    """Removing by URI takes every occurrence, so a duplicate is removed and inserted again once."""
    target = SONGS[:5]
    current = [*SONGS[:5], SONGS[2]]
    edit = plan_edit(current, target)
    assert edit is not None and carried_out(current, edit) == target
    assert edit.remove == (SONGS[2],) and edit.inserts == ((2, (SONGS[2],)),)


def test_a_run_of_new_songs_goes_in_100_a_request() -> None:
    """250 new songs at the top of 50 kept ones: inserts at 0, 100 and 200."""
    target = SONGS[:300]
    edit = plan_edit(SONGS[250:300], target)
    assert edit is not None and carried_out(SONGS[250:300], edit) == target
    assert [(position, len(uris)) for position, uris in edit.inserts] == [(0, 100), (100, 100), (200, 50)]


def test_no_edit_for_what_spotify_cannot_remove_by_uri_or_a_target_listing_a_song_twice() -> None:
    """A local file, a null entry ("") or a duplicate in the target: None, the playlist is rewritten."""
    assert plan_edit([SONGS[0], "spotify:local:Me:Home:Demo:95"], [SONGS[0]]) is None
    assert plan_edit([SONGS[0], ""], [SONGS[0]]) is None
    assert plan_edit([], [SONGS[0], SONGS[0]]) is None
    assert plan_edit(["spotify:episode:" + "e" * 22], []) == ItemsEdit(("spotify:episode:" + "e" * 22,), (), 0)


def test_any_playlist_of_songs_reaches_its_target() -> None:
    """Random playlists (reordered, duplicated, foreign songs) against random targets: always exactly the target."""
    shuffle = random.Random(7)
    for _ in range(300):
        target = shuffle.sample(SONGS, shuffle.randint(0, 250))
        current = [uri for uri in target if shuffle.random() < 0.8] + shuffle.sample(SONGS, shuffle.randint(0, 20))
        if current and shuffle.random() < 0.3:
            current.insert(shuffle.randrange(len(current)), shuffle.choice(current))
        if shuffle.random() < 0.2:
            shuffle.shuffle(current)
        edit = plan_edit(current, target)
        assert edit is not None and carried_out(current, edit) == target


def test_a_rewrite_makes_one_request_per_100_songs_and_at_least_one() -> None:
    """Emptying a playlist is still one PUT; 101 songs are a PUT and a POST."""
    assert [rewrite_requests(n) for n in (0, 100, 101, 1_697)] == [1, 1, 2, 17]
