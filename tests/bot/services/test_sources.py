"""Choosing a source: which playlists are offered, how what a member submits is understood, and
how often Spotify is asked for a member's list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.errors import NotLinked, SourceRefused, UnknownSource
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.sources import PLAYLIST_LIST_TTL_S, source_value, suggest_sources
from bot.spotify.app import SCOPES
from bot.spotify.errors import PlaylistNotFound, PlaylistNotReadable
from music import LIKED_SONGS, SortSource
from sandbox.records import spotify_id
from tests.bot.conftest import World, link_directly

ALICE = 111


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def alices_library(world: World) -> dict[str, str]:
    """Alice owns two playlists, collaborates on one of Bob's, follows another of Bob's; genrebot made one."""
    state = world.sandbox
    ids = {
        "road": state.add_playlist("alice", "Road Trip").id,
        "gym": state.add_playlist("alice", "Gym").id,
        "party": state.add_playlist("bob", "Party", collaborative=True).id,
        "bobs": state.add_playlist("bob", "Bob's Hits", public=True).id,
    }
    state.collaborate("alice", ids["party"])
    state.follow("alice", ids["bobs"])
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=40))
    ids["genrebot"] = report.playlists[0].playlist_id or ""
    return ids


async def test_suggestions_offer_own_and_shared_playlists_only(world: World) -> None:
    """Liked Songs first, then what Alice owns or collaborates on; not Bob's followed list, not genrebot's."""
    ids = await alices_library(world)
    suggested = suggest_sources(await world.services.sources.playlists(ALICE), "")
    assert [s.source.playlist_id for s in suggested] == [None, ids["road"], ids["gym"], ids["party"]]
    assert [s.shared_by for s in suggested] == [None, None, None, "Bob"]


async def test_suggestions_match_what_the_member_typed_names_starting_with_it_first(world: World) -> None:
    """'r' offers Road Trip (starts with it) before Party (contains it); Liked Songs only when it matches."""
    ids = await alices_library(world)
    playlists = await world.services.sources.playlists(ALICE)
    assert [s.source.playlist_id for s in suggest_sources(playlists, "r")] == [ids["road"], ids["party"]]
    assert [s.source for s in suggest_sources(playlists, "LIKED")] == [LIKED_SONGS]


async def test_the_list_is_fetched_once_for_many_keystrokes_and_again_when_old(world: World) -> None:
    """Ten look-ups within the minute ask Spotify once; after the minute, once more."""
    await alices_library(world)
    clock = FakeMonotonic()
    world.services.sources.monotonic = clock
    before = world.sandbox.count("GET", "/v1/me/playlists")
    for _ in range(10):
        await world.services.sources.playlists(ALICE)
    assert world.sandbox.count("GET", "/v1/me/playlists") - before == 1
    clock.now += PLAYLIST_LIST_TTL_S + 1
    await world.services.sources.playlists(ALICE)
    assert world.sandbox.count("GET", "/v1/me/playlists") - before == 2


async def test_the_kept_lists_are_bounded(world: World) -> None:
    """With room for one member's list, fetching a second member's drops the first."""
    await alices_library(world)
    await world.link(222, "bob")
    world.services.sources.max_members = 1
    await world.services.sources.playlists(ALICE)
    await world.services.sources.playlists(222)
    before = world.sandbox.count("GET", "/v1/me/playlists")
    await world.services.sources.playlists(ALICE)
    assert world.sandbox.count("GET", "/v1/me/playlists") - before == 1


async def test_nothing_or_liked_songs_means_liked_songs(world: World) -> None:
    """No source, 'Liked Songs' or the suggestion value 'liked' all resolve to Liked Songs without Spotify."""
    for typed in (None, "", "Liked Songs", "liked"):
        assert await world.services.sources.resolve(ALICE, typed) == LIKED_SONGS


async def test_a_playlist_named_like_a_synonym_of_liked_songs_is_that_playlist(world: World) -> None:
    """Only 'liked' and 'Liked Songs' mean Liked Songs: Alice's playlist 'Saved' typed by name is the playlist."""
    await alices_library(world)
    saved = world.sandbox.add_playlist("alice", "Saved").id
    world.services.sources.ttl_s = 0  # see the new playlist at once
    assert await world.services.sources.resolve(ALICE, "saved") == SortSource(saved, "Saved")


async def test_a_suggestion_a_link_or_a_name_resolves_to_the_playlist(world: World) -> None:
    """The suggestion's value, the playlist's share link, and its exact name (any case) all name Road Trip."""
    ids = await alices_library(world)
    road = SortSource(ids["road"], "Road Trip")
    link = f"https://open.spotify.com/intl-de/playlist/{ids['road']}?si=abc123"
    for typed in (source_value(road), link, ids["road"], "road trip"):
        assert await world.services.sources.resolve(ALICE, typed) == road


async def test_a_link_or_uri_of_the_older_form_naming_the_owner_resolves_too(world: World) -> None:
    """Share links and URIs from before Spotify dropped the owner from them (members keep old links;
    Spotify's clients still take them, fondberg/spotcast#368): open.spotify.com/user/<owner>/playlist/<id>,
    the old web player's play.spotify.com, and spotify:user:<owner>:playlist:<id> name Road Trip."""
    ids = await alices_library(world)
    road = SortSource(ids["road"], "Road Trip")
    for typed in (f"https://open.spotify.com/user/alice.smith-1/playlist/{ids['road']}?si=x",
                  f"http://play.spotify.com/user/alice/playlist/{ids['road']}",
                  f"spotify:user:alice:playlist:{ids['road']}"):
        assert await world.services.sources.resolve(ALICE, typed) == road, typed


async def test_a_short_share_link_is_refused_saying_how_to_get_the_full_one(world: World) -> None:
    """Spotify's phone apps share short links (spotify.link/…, formerly link.tospotify.com/…, and
    open.spotify.com/s/…) that name no playlist and that no API decodes (spotipy#951, tekore#301):
    the member is told to open it and paste the open.spotify.com/playlist/ address, not that no
    playlist has that name."""
    await alices_library(world)
    for typed in ("https://spotify.link/74vFi7E2yDb", "https://link.tospotify.com/siNai64Wwbb",
                  "https://open.spotify.com/s/2czejYu"):
        with pytest.raises(SourceRefused, match="open.spotify.com/playlist/"):
            await world.services.sources.resolve(ALICE, typed)


async def test_someone_elses_playlist_is_refused_by_name_or_by_link(world: World) -> None:
    """Bob's followed playlist, named or linked, and a pasted link to Bob's private one: PlaylistNotReadable."""
    ids = await alices_library(world)
    private = world.sandbox.add_playlist("bob", "Bob's secret").id
    for typed in ("Bob's Hits", f"spotify:playlist:{ids['bobs']}", f"https://open.spotify.com/playlist/{private}"):
        with pytest.raises(PlaylistNotReadable) as caught:
            await world.services.sources.resolve(ALICE, typed)
        assert caught.value.owner == "Bob"


async def test_genrebots_own_playlists_are_refused_as_sources(world: World) -> None:
    """A link to a playlist genrebot made is refused with the reason."""
    ids = await alices_library(world)
    with pytest.raises(SourceRefused, match="playlists I made"):
        await world.services.sources.resolve(ALICE, f"spotify:playlist:{ids['genrebot']}")


async def test_a_genrebot_playlist_renamed_by_the_member_is_not_offered_after_the_database_is_lost(
    world: World, tmp_path: Path
) -> None:
    """Its tag, not its name, says genrebot made it: 'My rock' (was 'Rock · genrebot') is neither
    suggested nor accepted as a source by a bot whose database no longer records it."""
    ids = await alices_library(world)
    renamed = world.sandbox.playlists[ids["genrebot"]]
    renamed.name = "My rock"
    fresh = await Services.open(world.services.settings.model_copy(update={"data_dir": tmp_path / "fresh"}),
                                clock=world.clock)
    try:
        await link_directly(fresh, ALICE, "alice")
        suggested = suggest_sources(await fresh.sources.playlists(ALICE), "")
        assert ids["genrebot"] not in [s.source.playlist_id for s in suggested]
        with pytest.raises(SourceRefused, match="playlists I made"):
            await fresh.sources.resolve(ALICE, "My rock")
    finally:
        await fresh.close()


async def test_two_playlists_with_the_typed_name_ask_the_member_to_pick(world: World) -> None:
    """A name two of Alice's playlists share is refused with the way out (suggestion or link)."""
    await alices_library(world)
    world.sandbox.add_playlist("alice", "Gym")
    world.services.sources.ttl_s = 0  # see the new playlist at once
    with pytest.raises(SourceRefused, match="Spotify link"):
        await world.services.sources.resolve(ALICE, "gym")


async def test_unknown_names_and_links_get_clear_refusals(world: World) -> None:
    """A name of no playlist: UnknownSource; a link Spotify does not know: PlaylistNotFound."""
    await alices_library(world)
    with pytest.raises(UnknownSource):
        await world.services.sources.resolve(ALICE, "Christmas 2031")
    with pytest.raises(PlaylistNotFound):
        await world.services.sources.resolve(ALICE, f"spotify:playlist:{spotify_id('nobody made this')}")


async def test_a_member_with_an_old_token_is_told_to_link_again_for_shared_playlists(world: World) -> None:
    """Linked before playlist-read-collaborative: the shared playlist isn't listed, and the refusal says /link."""
    world.services.spotify_app.scopes = tuple(s for s in SCOPES if s != "playlist-read-collaborative")
    try:
        ids = await alices_library(world)
    finally:
        del world.services.spotify_app.scopes
    playlists = await world.services.sources.playlists(ALICE)
    assert ids["party"] not in {p.id for p in playlists.readable} and not playlists.collaborative_listed
    with pytest.raises(UnknownSource, match="/link again"):
        await world.services.sources.resolve(ALICE, "Party")


async def test_a_member_who_never_linked_cannot_pick_a_playlist(world: World) -> None:
    """Resolving a playlist needs the member's Spotify: NotLinked."""
    with pytest.raises(NotLinked):
        await world.services.sources.resolve(ALICE, "Road Trip")
