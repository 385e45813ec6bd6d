"""Choosing what a sort reads: the member's Liked Songs or one of their playlists.

Sources are suggested as the member types (`/sort source:`, `/schedule set source:`) from their
playlists (`GET /me/playlists`), offering only those whose items Spotify lets a development-mode
app read: playlists the member owns or collaborates on (February 2026), never the ones genrebot
made. Autocomplete runs at every keystroke, so a member's list is kept briefly (per member,
bounded) and one fetch serves every keystroke waiting for it. `resolve` turns what the member
submitted (a suggestion's value, a playlist link or id, or a name) into a `SortSource`, or a
clear refusal.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.services.errors import SourceRefused, UnknownSource
from bot.services.genre_names import PLAYLIST_NAME_SUFFIX
from bot.services.linking import LinkService
from bot.spotify.app import COLLABORATIVE_SCOPE
from bot.spotify.client import PlaylistSummary, SpotifyUserClient
from bot.spotify.errors import PlaylistNotReadable
from bot.spotify.own_playlists import tag_of
from music import LIKED_SONGS, SortSource
from storage import Database

T = TypeVar("T")
PLAYLIST_LIST_TTL_S = 60.0  # a member's list of playlists is fetched again after this long
MAX_CACHED_MEMBERS = 512  # lists kept at once; the least recently used goes first
LIKED_SONGS_VALUE = "liked"
# What a member may type for Liked Songs; a playlist of theirs named so is still picked by its suggestion.
LIKED_SONGS_NAMES = frozenset(("liked", "liked songs"))
# A playlist named by its Spotify URI, its link (any locale path, any ?si= tail) or its bare id.
# A playlist's URI or link, also in the older forms naming its owner (`spotify:user:<owner>:playlist:`,
# `open.spotify.com/user/<owner>/playlist/`, the old web player's play.spotify.com) that members keep
# from years ago and Spotify's clients still take; a localised link has `intl-xx/` before `playlist/`.
_PLAYLIST_REFERENCE = re.compile(
    r"(?:spotify:(?:user:[^:\s]+:)?playlist:"
    r"|(?:open|play)\.spotify\.com/(?:[\w-]+/)?(?:user/[^/\s]+/)?playlist/)([0-9A-Za-z]{22})\b"
)
_PLAYLIST_ID = re.compile(r"[0-9A-Za-z]{22}")
MADE_BY_GENREBOT = "That's one of the playlists I made. Pick the playlist you want sorted into genres."
SEVERAL_WITH_THAT_NAME = (
    "Several of your playlists have that name. Pick one from the suggestions, or paste its Spotify link."
)
# The phone apps' short share links name no playlist, and Spotify offers no way to decode them.
_SHORT_LINK = re.compile(r"(?:spotify\.link|link\.tospotify\.com|open\.spotify\.com/s)/\w")
SHORT_LINK = (
    "That's a short share link, which doesn't say which playlist it is. Pick the playlist from the "
    "suggestions, or open the link and paste the address it leads to (open.spotify.com/playlist/…)."
)


def source_value(source: SortSource) -> str:
    """What a suggestion submits for `source`: 'liked', or the playlist's Spotify URI."""
    return LIKED_SONGS_VALUE if source.is_liked_songs else f"spotify:playlist:{source.playlist_id}"


def playlist_id_in(text: str) -> str | None:
    """The playlist id in a Spotify URI, a playlist link or a bare id; None for anything else."""
    found = _PLAYLIST_REFERENCE.search(text)
    if found:
        return found.group(1)
    return text if _PLAYLIST_ID.fullmatch(text) else None


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _made_by_genrebot(playlist: PlaylistSummary) -> bool:
    """One of the member's playlists genrebot made, whether or not the database remembers it: its
    name ends as genrebot names them, or its description carries genrebot's tag (a member may
    rename it; the tag stays unless they rewrite the description)."""
    return playlist.name.endswith(PLAYLIST_NAME_SUFFIX) or tag_of(playlist.description) is not None


@dataclass(frozen=True)
class MemberPlaylists:
    """A member's library of playlists, split by what genrebot may do with each."""

    member_id: str  # their Spotify user id: playlist owners are named by it
    readable: tuple[PlaylistSummary, ...]  # owned or collaborative, in Spotify's order: offered as sources
    unreadable: tuple[PlaylistSummary, ...]  # followed playlists of others: Spotify refuses their items
    made_by_genrebot: tuple[PlaylistSummary, ...]
    collaborative_listed: bool  # False for a token from before playlist-read-collaborative

    @classmethod
    def from_listing(
        cls, member_id: str, listed: Sequence[PlaylistSummary], genrebot_ids: set[str], collaborative_listed: bool
    ) -> MemberPlaylists:
        readable: list[PlaylistSummary] = []
        unreadable: list[PlaylistSummary] = []
        made: list[PlaylistSummary] = []
        for playlist in listed:
            own = playlist.owner_id == member_id
            if playlist.id in genrebot_ids or (own and _made_by_genrebot(playlist)):
                made.append(playlist)
            elif own or playlist.collaborative:
                readable.append(playlist)
            else:
                unreadable.append(playlist)
        return cls(member_id, tuple(readable), tuple(unreadable), tuple(made), collaborative_listed)


@dataclass(frozen=True)
class SourceSuggestion:
    source: SortSource
    shared_by: str | None = None  # the owner's name, for a collaborative playlist someone else owns


def suggest_sources(playlists: MemberPlaylists | None, typed: str) -> list[SourceSuggestion]:
    """Liked Songs and the member's readable playlists whose names hold what they typed: names
    starting with it first, then the rest, each group in Spotify's order. Without a list
    (not fetched yet, or Spotify failed), Liked Songs alone."""
    text = _folded(typed)
    suggestions = [SourceSuggestion(LIKED_SONGS)] if text in _folded(LIKED_SONGS.name) or text == "liked" else []
    if playlists is None:
        return suggestions
    starting: list[SourceSuggestion] = []
    containing: list[SourceSuggestion] = []
    for playlist in playlists.readable:
        name = _folded(playlist.name)
        if text not in name:
            continue
        shared_by = playlist.owner_name if playlist.owner_id != playlists.member_id else None
        suggestion = SourceSuggestion(SortSource(playlist.id, playlist.name), shared_by)
        (starting if name.startswith(text) else containing).append(suggestion)
    return [*suggestions, *starting, *containing]


class SourceService:
    def __init__(
        self,
        db: Database,
        linking: LinkService,
        *,
        ttl_s: float = PLAYLIST_LIST_TTL_S,
        max_members: int = MAX_CACHED_MEMBERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.linking = linking
        self.ttl_s = ttl_s
        self.max_members = max_members
        self.monotonic = monotonic
        self._lists: OrderedDict[int, tuple[float, MemberPlaylists]] = OrderedDict()
        self._fetching: dict[int, asyncio.Task[MemberPlaylists]] = {}

    async def playlists(self, discord_id: int) -> MemberPlaylists:
        """The member's playlists: kept for `ttl_s`, else fetched once for every caller waiting.

        A caller that stops waiting (an autocomplete answering in time without them) leaves the
        fetch running, so the member's next keystroke finds the list."""
        kept = self._lists.get(discord_id)
        if kept is not None and self.monotonic() - kept[0] < self.ttl_s:
            self._lists.move_to_end(discord_id)
            return kept[1]
        task = self._fetching.get(discord_id)
        if task is None:
            task = asyncio.create_task(self._fetch(discord_id), name=f"playlists-of-{discord_id}")
            self._fetching[discord_id] = task
            task.add_done_callback(lambda done: self._fetched(discord_id, done))
        return await asyncio.shield(task)

    def _fetched(self, discord_id: int, task: asyncio.Task[MemberPlaylists]) -> None:
        self._fetching.pop(discord_id, None)
        if task.cancelled() or task.exception() is not None:
            return  # the waiters got the error; nothing is kept
        self._lists[discord_id] = (self.monotonic(), task.result())
        self._lists.move_to_end(discord_id)
        while len(self._lists) > self.max_members:
            self._lists.popitem(last=False)

    async def _fetch(self, discord_id: int) -> MemberPlaylists:
        genrebot_ids = await self.db.playlists.playlist_ids(discord_id)

        def read(client: SpotifyUserClient) -> tuple[str, list[PlaylistSummary], bool]:
            return client.profile().id, client.my_playlists(), COLLABORATIVE_SCOPE in client.granted_scopes

        member_id, listed, collaborative_listed = await self._spotify(discord_id, read)
        return MemberPlaylists.from_listing(member_id, listed, genrebot_ids, collaborative_listed)

    async def _spotify(self, discord_id: int, call: Callable[[SpotifyUserClient], T]) -> T:
        """Run blocking Spotify calls for the member in a thread (their token saved if refreshed)."""
        async with self.linking.client(discord_id) as client:
            return await asyncio.to_thread(call, client)

    async def deleted_by_member(self, discord_id: int, source: SortSource) -> bool:
        """Whether this is a playlist of the member's own that they deleted: Spotify's "delete"
        only unfollows it, and Spotify still serves its items. (Someone else's playlist the member
        no longer follows is left to reading, which says whose it is when Spotify refuses it.)"""
        if source.playlist_id is None:
            return False
        playlist_id = source.playlist_id

        def deleted(client: SpotifyUserClient) -> bool:
            if playlist_id in client.followed_playlists([playlist_id]):
                return False
            return client.playlist_details(playlist_id).owner_id == client.user_id()

        return await self._spotify(discord_id, deleted)

    async def close(self) -> None:
        """Stop fetches still running (before the database and the Spotify session close)."""
        for task in list(self._fetching.values()):
            task.cancel()
        await asyncio.gather(*self._fetching.values(), return_exceptions=True)

    async def resolve(self, discord_id: int, typed: str | None) -> SortSource:
        """The source the member chose: nothing or 'Liked Songs' -> Liked Songs; a suggestion's
        value, a playlist link, URI or id, or a playlist's exact name -> that playlist.

        Raises PlaylistNotReadable for someone else's playlist, PlaylistNotFound for a link Spotify
        does not know, SourceRefused for genrebot's own playlists, a name several share or a short
        share link, and UnknownSource for anything else."""
        text = " ".join((typed or "").split())
        if not text or text.casefold() in LIKED_SONGS_NAMES:
            return LIKED_SONGS
        playlists = await self.playlists(discord_id)
        playlist_id = playlist_id_in(text)
        if playlist_id is not None:
            return await self._by_id(discord_id, playlists, playlist_id)
        if _SHORT_LINK.search(text):
            raise SourceRefused(SHORT_LINK)
        wanted = _folded(text)
        named = [p for p in playlists.readable if _folded(p.name) == wanted]
        if len(named) == 1:
            return SortSource(named[0].id, named[0].name)
        if named:
            raise SourceRefused(SEVERAL_WITH_THAT_NAME)
        for playlist in playlists.unreadable:
            if _folded(playlist.name) == wanted:
                raise PlaylistNotReadable(playlist.id, playlist.name, playlist.owner_name)
        if any(_folded(p.name) == wanted for p in playlists.made_by_genrebot):
            raise SourceRefused(MADE_BY_GENREBOT)
        raise UnknownSource(text, collaborative_listed=playlists.collaborative_listed)

    async def _by_id(self, discord_id: int, playlists: MemberPlaylists, playlist_id: str) -> SortSource:
        if any(p.id == playlist_id for p in playlists.made_by_genrebot):
            raise SourceRefused(MADE_BY_GENREBOT)
        for playlist in playlists.readable:
            if playlist.id == playlist_id:
                return SortSource(playlist.id, playlist.name)
        for playlist in playlists.unreadable:
            if playlist.id == playlist_id:
                raise PlaylistNotReadable(playlist.id, playlist.name, playlist.owner_name)
        # Not in their library (a link someone pasted): Spotify's details say whose it is.
        details = await self._spotify(discord_id, lambda client: client.playlist_details(playlist_id))
        if details.owner_id == playlists.member_id and _made_by_genrebot(details):
            raise SourceRefused(MADE_BY_GENREBOT)
        if details.owner_id != playlists.member_id and not details.collaborative:
            raise PlaylistNotReadable(details.id, details.name, details.owner_name)
        return SortSource(details.id, details.name)
