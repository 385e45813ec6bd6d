"""The sandbox as the demo uses it: one app, one demo member with the demo library and a playlist
of their own, and playlists kept in a state file so a second demo run finds (and updates) the
same playlists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sandbox.library import demo_library, demo_playlist_songs
from sandbox.records import SandboxPlaylist, local_file, spotify_id
from sandbox.server import SandboxServer
from sandbox.state import PlaylistItem, SandboxState

DEMO_USER = "genrebot-demo-member"
ROAD_TRIP_ID = spotify_id("demo-playlist:road-trip")
# Real playlists hold the odd file from the member's own computer; Spotify lists it with null ids.
GARAGE_DEMO = local_file("The Weekend Garage", "Basement Tapes", "Summer Demo", 187)


def seed_demo_member(state: SandboxState, user_id: str = DEMO_USER, display_name: str = "Demo Member") -> SandboxPlaylist:
    """The demo member: the demo library as Liked Songs, and "Road Trip", a private playlist of
    their own (37 songs, 25 of them also liked, and one local file), made once and kept."""
    if user_id not in state.users:
        state.add_user(user_id, display_name, demo_library())
    songs = [song.track for song in demo_playlist_songs()]
    existing = state.playlists.get(ROAD_TRIP_ID)
    if existing is not None:  # kept from an earlier run: only the catalogue needs it again
        state.add_tracks(songs)
        state.local_files[GARAGE_DEMO.uri] = GARAGE_DEMO
        return existing
    items: list[PlaylistItem] = [*songs[:9], GARAGE_DEMO, *songs[9:]]
    return state.add_playlist(user_id, "Road Trip", items, description="Songs for the long drive.",
                              playlist_id=ROAD_TRIP_ID)


@asynccontextmanager
async def demo_sandbox(state_file: Path, client_id: str, client_secret: str, redirect_uri: str) -> AsyncIterator[str]:
    state = SandboxState(apps={client_id: client_secret}, redirect_uris={redirect_uri}, auto_approve=True)
    state.load_playlists(state_file)
    seed_demo_member(state)
    server = SandboxServer(state)
    base_url = await server.start()
    try:
        yield base_url
    finally:
        await server.stop()
        state.save_playlists(state_file)
