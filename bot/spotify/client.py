"""One member's Spotify client: a method per endpoint genrebot uses, each under the fault policy.

Like spotipy's own `Spotify(auth_manager=..., requests_session=...)`, the client is handed its
parts (the member's auth manager, the shared HTTP session, the API base and the fault policy);
`SpotifyApp.user_client` is the factory that assembles them. Everything here is blocking.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import requests
import spotipy

from bot.spotify.errors import AudioFeaturesUnavailable, PlaylistNotFound, PlaylistNotReadable
from bot.spotify.gate import SpotifyGate
from bot.spotify.own_playlists import OwnPlaylist, tag_of
from bot.spotify.retry import RetryPolicy, SpotifyRefused, call_with_policy
from music import Track

T = TypeVar("T")
PAGE_SIZE = 50  # the most Spotify serves per page of Liked Songs, playlists, or playlist items
# Why a playlist entry is not a song genrebot can sort (the reply counts each reason).
SKIPPED_LOCAL = "local file"
SKIPPED_EPISODE = "episode"
SKIPPED_UNAVAILABLE = "unavailable"
SKIPPED_UNLISTED = "unlisted"  # Liked Songs Spotify counts but leaves out of its pages (spotify/web-api#212)
AUDIO_FEATURES_BATCH = 100  # ids per /audio-features request
LIBRARY_CONTAINS_BATCH = 40  # URIs per /me/library/contains request


@dataclass(frozen=True)
class SpotifyProfile:
    id: str
    account_id: str
    display_name: str


@dataclass(frozen=True)
class LikedPage:
    items: list[tuple[Track, datetime]]
    total: int
    next_offset: int | None
    skipped: Counter[str] = field(default_factory=Counter)  # SKIPPED_* reason -> entries on this page


@dataclass(frozen=True)
class PlaylistRef:
    id: str
    url: str


@dataclass(frozen=True)
class PlaylistSummary:
    """A playlist as `GET /me/playlists` and `GET /playlists/{id}` describe it (no items)."""

    id: str
    name: str
    owner_id: str
    owner_name: str
    collaborative: bool
    description: str
    snapshot_id: str


@dataclass(frozen=True)
class PlaylistItemsPage:
    tracks: list[Track]  # the songs on this page, in playlist order
    skipped: Counter[str] = field(default_factory=Counter)  # SKIPPED_* reason -> entries on this page
    total: int = 0
    next_offset: int | None = None


def granted_scopes(token_info: dict[str, Any] | None) -> frozenset[str]:
    """The scopes a token was granted (Spotify's token answer lists them, space-separated)."""
    return frozenset(str((token_info or {}).get("scope") or "").split())


class SpotifyUserClient:
    """A spotipy client for one member, seeded with their token; safe to share across threads."""

    def __init__(
        self,
        *,
        auth_manager: spotipy.SpotifyOAuth,
        requests_session: requests.Session,
        api_base: str,
        policy: RetryPolicy,
        gate: SpotifyGate,
        requests_timeout: float,
    ) -> None:
        self.auth = auth_manager
        self.policy = policy
        self.gate = gate
        self.sp = spotipy.Spotify(
            auth_manager=auth_manager,
            requests_session=requests_session,
            requests_timeout=requests_timeout,
            retries=0,
        )
        self.sp.prefix = api_base.rstrip("/") + "/"
        self.requests_made = 0
        self._count_lock = threading.Lock()
        self._user_id: str | None = None

    @property
    def token_info(self) -> dict[str, Any] | None:
        token: dict[str, Any] | None = self.auth.cache_handler.get_cached_token()
        return token

    @property
    def granted_scopes(self) -> frozenset[str]:
        return granted_scopes(self.token_info)

    def _force_refresh(self) -> None:
        token = self.token_info
        if token and token.get("refresh_token"):
            self.auth.refresh_access_token(token["refresh_token"])

    def call(self, fn: Callable[[], T], *, idempotent: bool = True, answers: bool = True) -> T:
        """One request under the fault policy; `idempotent=False` for writes that must never be
        repeated blindly (they raise WriteOutcomeUnknown when the answer is lost); `answers=False`
        for the one Spotify answers with an empty body (see `call_with_policy`)."""

        def counted() -> T:
            with self._count_lock:
                self.requests_made += 1
            return fn()

        return call_with_policy(
            counted, self.policy, self.gate, self._force_refresh, idempotent=idempotent, answers=answers
        )

    # --- profile and library ---------------------------------------------------------------

    def profile(self) -> SpotifyProfile:
        me = self.call(self.sp.me)
        spotify_id = str(me["id"])
        return SpotifyProfile(
            id=spotify_id,
            account_id=str(me.get("account_id") or spotify_id),
            display_name=str(me.get("display_name") or spotify_id),
        )

    def liked_songs_page(self, offset: int, limit: int = PAGE_SIZE) -> LikedPage:
        page = self.call(lambda: self.sp.current_user_saved_tracks(limit=limit, offset=offset))
        items = []
        skipped: Counter[str] = Counter()
        for entry in page.get("items") or []:
            track, reason = _entry_song(entry)
            if track is not None:
                items.append((track, _parse_time(entry.get("added_at"))))
            else:
                skipped[reason or SKIPPED_UNAVAILABLE] += 1
        total = int(page.get("total") or 0)
        next_offset = offset + limit if page.get("next") and offset + limit < total else None
        return LikedPage(items, total, next_offset, skipped)

    def audio_features(self, ids: list[str]) -> dict[str, dict[str, float]]:
        """Audio features by track id, 100 ids a request. Raises AudioFeaturesUnavailable when
        Spotify refuses the endpoint to this app (its 403, the usual case since 2024); any other
        failure (a 404, a 429, a quota or Premium refusal) is raised as its own type."""
        features: dict[str, dict[str, float]] = {}
        for start in range(0, len(ids), AUDIO_FEATURES_BATCH):
            batch = ids[start : start + AUDIO_FEATURES_BATCH]
            try:
                result = self.call(partial(self._audio_features_batch, batch))
            except SpotifyRefused as refused:
                if refused.status == 403:  # only the endpoint's own 403 says "not for this app"
                    raise AudioFeaturesUnavailable() from None
                raise
            for entry in (result or {}).get("audio_features") or []:
                if entry and entry.get("id"):
                    features[entry["id"]] = {
                        k: float(v)
                        for k, v in entry.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    }
        return features

    def _audio_features_batch(self, ids: list[str]) -> Any:
        return self.sp._get("audio-features/?ids=" + ",".join(ids))

    # --- playlists as sources ------------------------------------------------------------------

    def my_playlists(self) -> list[PlaylistSummary]:
        """Every playlist in the member's library (owned, followed, collaborative as the scopes
        allow), in Spotify's order, 50 a request."""
        return self._playlists_from(0)

    def library_playlists(self, max_requests: int) -> list[PlaylistSummary] | None:
        """Every playlist in the member's library if listing them takes at most `max_requests`
        requests (50 a page), else None after the first page told how many there are."""
        first = self.call(partial(self.sp.current_user_playlists, limit=PAGE_SIZE, offset=0))
        if math.ceil(int(first.get("total") or 0) / PAGE_SIZE) > max_requests:
            return None
        playlists = [_playlist_summary(p) for p in first.get("items") or [] if p and p.get("id")]
        if first.get("next") and first.get("items"):
            playlists.extend(self._playlists_from(PAGE_SIZE))
        return playlists

    def _playlists_from(self, offset: int) -> list[PlaylistSummary]:
        playlists: list[PlaylistSummary] = []
        while True:
            page = self.call(partial(self.sp.current_user_playlists, limit=PAGE_SIZE, offset=offset))
            playlists.extend(_playlist_summary(p) for p in page.get("items") or [] if p and p.get("id"))
            if not page.get("next") or not page.get("items"):
                return playlists
            offset += PAGE_SIZE

    def playlist_details(self, playlist_id: str) -> PlaylistSummary:
        """A playlist's name, owner and snapshot; any playlist Spotify knows may be looked up."""
        fields = "id,name,description,collaborative,snapshot_id,owner(id,display_name)"
        answer = self._playlist_request(playlist_id, f"playlists/{playlist_id}", fields=fields)
        return _playlist_summary(answer)

    def playlist_items_page(self, playlist_id: str, offset: int, limit: int = PAGE_SIZE) -> PlaylistItemsPage:
        """One page of a playlist's items: the songs, and what was skipped (local files, episodes,
        entries Spotify no longer serves). Raises PlaylistNotReadable when the member neither owns
        nor collaborates on the playlist."""
        page = self._playlist_request(
            playlist_id, f"playlists/{playlist_id}/items", limit=limit, offset=offset, additional_types="track,episode"
        )
        tracks: list[Track] = []
        skipped: Counter[str] = Counter()
        for entry in page.get("items") or []:
            track, reason = _entry_song(entry)
            if track is not None:
                tracks.append(track)
            else:
                skipped[reason or SKIPPED_UNAVAILABLE] += 1
        total = int(page.get("total") or 0)
        next_offset = offset + limit if page.get("next") and offset + limit < total else None
        return PlaylistItemsPage(tracks, skipped, total, next_offset)

    def _playlist_request(self, playlist_id: str, path: str, **params: Any) -> Any:
        """A GET about one playlist, its refusals typed by status (the policy already told a
        Premium, unregistered-user or missing-scope 403 apart from the playlist's own)."""
        try:
            return self.call(partial(self.sp._get, path, **params))
        except SpotifyRefused as refused:
            if refused.status in (400, 404):
                raise PlaylistNotFound(playlist_id) from None
            if refused.status == 403:
                raise PlaylistNotReadable(playlist_id) from None
            raise

    # --- playlists ---------------------------------------------------------------------------

    def create_playlist(self, name: str, description: str, public: bool = False) -> PlaylistRef:
        """POST /me/playlists. Not safe to repeat: a lost answer raises WriteOutcomeUnknown
        (see `playlist_sync.create_once`)."""
        created = self.call(
            lambda: self.sp.current_user_playlist_create(name, public=public, description=description),
            idempotent=False,
        )
        return PlaylistRef(created["id"], _playlist_url(created))

    def playlist_is_followed(self, playlist_id: str) -> bool:
        """Whether the member still has this playlist: Spotify's "delete" is an unfollow."""
        return playlist_id in self.followed_playlists([playlist_id])

    def followed_playlists(self, playlist_ids: Sequence[str]) -> set[str]:
        """Which of these playlists the member still has, 40 to a request."""
        followed: set[str] = set()
        ids = list(dict.fromkeys(playlist_ids))
        for start in range(0, len(ids), LIBRARY_CONTAINS_BATCH):
            batch = ids[start : start + LIBRARY_CONTAINS_BATCH]
            uris = ",".join(f"spotify:playlist:{playlist_id}" for playlist_id in batch)
            answer = self.call(partial(self.sp._get, "me/library/contains", uris=uris))
            followed.update(playlist_id for playlist_id, has in zip(batch, answer or [], strict=False) if has)
        return followed

    def user_id(self) -> str:
        """The member's Spotify user id (owners of playlists are named by it), asked once."""
        if self._user_id is None:
            me = self.call(self.sp.me)
            self._user_id = str(me["id"])
        return self._user_id

    def own_playlists(self) -> dict[str, OwnPlaylist]:
        """The playlists in the member's library that they own and genrebot tagged, by tag
        (`PlaylistSlot.tag`; the first listed wins when an older release left two for one slot)."""
        owner = self.user_id()
        found: dict[str, OwnPlaylist] = {}
        for playlist in self.my_playlists():
            tag = tag_of(playlist.description)
            if tag is not None and playlist.owner_id == owner and tag not in found:
                found[tag] = OwnPlaylist(playlist.id, f"https://open.spotify.com/playlist/{playlist.id}", tag)
        return found

    def playlist_items_at(self, playlist_id: str, offset: int, count: int) -> list[str]:
        """The URIs at positions offset .. offset+count-1 (fewer where the playlist ends)."""
        uris: list[str] = []
        while len(uris) < count:
            at = offset + len(uris)
            page = self.call(partial(self.sp.playlist_items, playlist_id, limit=min(PAGE_SIZE, count - at + offset),
                                     offset=at))
            items = page.get("items") or []
            for item in items:
                entry = item.get("item") or item.get("track") or {}
                uris.append(str(entry.get("uri") or ""))
            if not items:
                return uris
        return uris[:count]

    def playlist_item_uris(self, playlist_id: str) -> list[str]:
        """Every entry's URI, in playlist order, 50 a request; an entry Spotify shows as null (a song
        it no longer serves) is "" so that positions stay true."""
        uris: list[str] = []
        offset = 0
        while True:
            page = self._items_page(playlist_id, offset)
            for item in page.get("items") or []:
                entry = (item or {}).get("item") or (item or {}).get("track") or {}
                uris.append(str(entry.get("uri") or ""))
            if not page.get("next"):
                return uris
            offset += PAGE_SIZE

    def _items_page(self, playlist_id: str, offset: int) -> dict[str, Any]:
        return dict(self.call(lambda: self.sp.playlist_items(playlist_id, limit=PAGE_SIZE, offset=offset)))

    def playlist_snapshot_id(self, playlist_id: str) -> str:
        """The playlist's current version: any change to it (items or details) gives a new one."""
        answer = self._playlist_request(playlist_id, f"playlists/{playlist_id}", fields="snapshot_id")
        return str(answer.get("snapshot_id") or "")

    def playlist_version(self, playlist_id: str) -> tuple[str, int]:
        """The playlist's snapshot id and how many entries it holds (local files and null ones
        included), in one request."""
        answer = self._playlist_request(playlist_id, f"playlists/{playlist_id}", fields="snapshot_id,items(total)")
        return str(answer.get("snapshot_id") or ""), int((answer.get("items") or {}).get("total") or 0)

    def put_playlist_items(self, playlist_id: str, uris: list[str]) -> str | None:
        """Replace every item with these (at most 100); safe to repeat, so retried by the policy.
        Returns the playlist's new snapshot id."""
        return _snapshot_of(self.call(lambda: self.sp.playlist_replace_items(playlist_id, uris)))

    def add_playlist_items(self, playlist_id: str, uris: list[str], position: int | None = None) -> str | None:
        """Insert up to 100 songs at `position` (the end when None). Not safe to repeat: a lost
        answer raises WriteOutcomeUnknown (see `playlist_sync.add_once`). Returns the new snapshot id."""
        return _snapshot_of(self.call(lambda: self.sp.playlist_add_items(playlist_id, uris, position=position),
                                      idempotent=False))

    def remove_playlist_items(self, playlist_id: str, uris: list[str]) -> str | None:
        """Remove every occurrence of these songs (at most 100 URIs, no local files: Spotify refuses
        them by URI). Repeating it removes nothing more, so the policy retries it like a PUT.
        Returns the new snapshot id."""
        return _snapshot_of(self.call(lambda: self.sp.playlist_remove_all_occurrences_of_items(playlist_id, uris)))

    def update_playlist_details(self, playlist_id: str, name: str, description: str) -> None:
        """PUT /playlists/{id}: Spotify answers 200 with an empty body, which spotipy gives as None."""
        self.call(lambda: self.sp.playlist_change_details(playlist_id, name=name, description=description),
                  answers=False)


def track_from_api(data: dict[str, Any] | None) -> Track | None:
    """A Track from Spotify's track object; None for local files, removed tracks and anything else
    that is not a song: an episode dressed as a track (what a client that leaves episodes out of
    `additional_types` gets) has type "track" but a `spotify:episode:` URI."""
    if not data or not data.get("id") or data.get("type", "track") != "track" or data.get("episode") is True:
        return None
    if data.get("uri") not in (None, f"spotify:track:{data['id']}"):
        return None
    album = data.get("album") or {}
    artists = data.get("artists") or []
    # A relinked answer (a request naming a market) serves the instance playable there; the song in
    # the member's library, which a genre playlist must hold for their app to show it as the same, is
    # the one `linked_from` names. Only extended-quota apps get `linked_from` (since February 2026),
    # so genrebot names no market: unrelinked answers are the liked songs themselves.
    linked_from = data.get("linked_from") or {}
    return Track(
        id=str(linked_from.get("id") or data["id"]),
        name=str(data.get("name") or ""),
        artists=tuple(str(a.get("name") or "") for a in artists),
        artist_ids=tuple(str(a.get("id") or "") for a in artists),
        album=str(album.get("name") or ""),
        release_date=album.get("release_date") or None,
        duration_ms=data.get("duration_ms"),
        explicit=data.get("explicit"),
        audio_features=None,
    )


def _playlist_summary(data: dict[str, Any]) -> PlaylistSummary:
    owner = data.get("owner") or {}
    owner_id = str(owner.get("id") or "")
    return PlaylistSummary(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        owner_id=owner_id,
        owner_name=str(owner.get("display_name") or owner_id),
        collaborative=bool(data.get("collaborative")),
        description=str(data.get("description") or ""),
        snapshot_id=str(data.get("snapshot_id") or ""),
    )


def _entry_song(entry: dict[str, Any] | None) -> tuple[Track | None, str | None]:
    """The song in a playlist entry or a Liked Songs entry, or why there is none. Since 2026
    playlist entries carry `item` (`track` is kept, deprecated; Liked Songs entries carry `track`);
    a local file is a track object with `is_local` and no id, a song Spotify no longer serves is null."""
    entry = entry or {}
    item = entry.get("item") if "item" in entry else entry.get("track")
    if not item:
        return None, SKIPPED_UNAVAILABLE
    if entry.get("is_local") or item.get("is_local") or str(item.get("uri") or "").startswith("spotify:local:"):
        return None, SKIPPED_LOCAL
    if item.get("type") == "episode" or item.get("episode") is True or str(item.get("uri") or "").startswith("spotify:episode:"):
        return None, SKIPPED_EPISODE
    track = track_from_api(item)
    return (track, None) if track is not None else (None, SKIPPED_UNAVAILABLE)


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _snapshot_of(answer: Any) -> str | None:
    """The `snapshot_id` of a write's answer (None if Spotify sent none)."""
    snapshot = answer.get("snapshot_id") if isinstance(answer, dict) else None
    return str(snapshot) if snapshot else None


def _playlist_url(playlist: dict[str, Any]) -> str:
    url = (playlist.get("external_urls") or {}).get("spotify")
    return str(url or f"https://open.spotify.com/playlist/{playlist['id']}")
