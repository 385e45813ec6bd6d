"""What the Spotify sandbox knows: apps, users, the catalogue, playlists, tokens and trouble.

Plain data with small methods, guarded by one lock because the sandbox may be read from a test's
thread while its server runs in another. The switches that make it stricter or harsher are
documented in the package docstring (`sandbox/__init__.py`); this module holds their state.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from music import Track
from sandbox import persistence
from sandbox.faults import Fault, FaultAction, QuotaBlock, RateLimit, RetryAfter, RollingWindow
from sandbox.records import (
    Episode,
    LocalFile,
    LoggedRequest,
    SandboxPlaylist,
    SandboxUser,
    is_spotify_id,
    spotify_id,
)
from sandbox.tokens import ACCESS_TOKEN_TTL_S, RefreshRotation, TokenBook

__all__ = ["DEFAULT_REDIRECT_URI", "RefreshRotation", "SandboxState", "spotify_id", "is_spotify_id"]

# The bot's default callback (bot.settings.DEFAULT_REDIRECT_URI; the sandbox may not import bot).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8888/callback"
PlaylistItem = Track | Episode  # a LocalFile is a Track
HookT = TypeVar("HookT", "LikedReadHook", "RequestHook")


@dataclass
class LikedReadHook:
    """Runs `action` once `left` more of the user's Liked Songs pages have been served."""

    user_id: str
    left: int
    action: Callable[[], None]


@dataclass
class RequestHook:
    """Runs `action` once `left` more requests matching `method` and `path_prefix` took effect."""

    method: str
    path_prefix: str
    left: int
    action: Callable[[], None]


def _count_down(hooks: list[HookT], matching: Callable[[HookT], bool]) -> None:
    """One more event for each hook `matching` it: those whose count runs out leave `hooks`, and
    their actions run (after the count, so an action may add hooks of its own)."""
    due = []
    for hook in [h for h in hooks if matching(h)]:
        hook.left -= 1
        if hook.left <= 0:
            hooks.remove(hook)
            due.append(hook.action)
    for action in due:
        action()


@dataclass(frozen=True)
class LikedPageHold:
    """The user's Liked Songs page at `offset` is answered only once `until()` has returned, then
    as usual, or with `then_status` (an error in Spotify's shape) if that is set."""

    until: Callable[[], Awaitable[object]]
    then_status: int | None = None


class SandboxState:
    def __init__(
        self,
        *,
        apps: dict[str, str] | None = None,
        redirect_uris: Iterable[str] | None = None,
        auto_approve: bool = True,
        audio_features_enabled: bool = False,
        latency_s: float = 0.0,
        access_token_ttl_s: float = ACCESS_TOKEN_TTL_S,
        rate_limit: RateLimit | None = None,
        refresh_rotation: RefreshRotation | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, str] = dict(apps or {})  # client id -> secret
        # Spotify redirects only to a URI registered for the app, compared exactly.
        self.redirect_uris: set[str] = set(redirect_uris) if redirect_uris is not None else {DEFAULT_REDIRECT_URI}
        self.auto_approve = auto_approve  # the scripted user approves at once (unless show_dialog=true)
        self.audio_features_enabled = audio_features_enabled  # an old extended-quota app; off for new apps
        # True: an app in extended quota mode, which keeps the fields Spotify's February 2026 change
        # took from development-mode apps (`sandbox.api.objects`); False: a development-mode app.
        self.extended_quota = False
        # False: the app owner's Premium lapsed, and every Web API call answers 403 (tokens still work).
        self.owner_premium = True
        self.latency_s = latency_s
        self.rate_limit = rate_limit
        self.users: dict[str, SandboxUser] = {}
        self.default_user: str | None = None
        self.playlists: dict[str, SandboxPlaylist] = {}
        self.tracks: dict[str, Track] = {}  # the catalogue: only these track URIs can be added
        self.episodes: dict[str, Episode] = {}
        self.local_files: dict[str, LocalFile] = {}  # by URI
        self.unavailable: set[str] = set()  # track ids Spotify no longer serves: entries show as null
        # Track relinking, seen only by a request naming a market: the id in a library -> the
        # instance of the song served in that market instead; and ids playable in no market.
        self.relinked: dict[str, Track] = {}
        self.unplayable: set[str] = set()
        self.unlisted: set[str] = set()  # liked track ids counted in totals and offsets, left out of pages
        # False: the end of the 2026 deprecation window: playlist entries carry `item` only (no
        # `track`), playlist objects `items` only (no `tracks`).
        self.deprecated_track_fields = True
        self.faults: list[Fault] = []
        self.windows: dict[str, RollingWindow] = {}  # per app, for `rate_limit`
        self.quota: list[QuotaBlock] = []
        self.liked_read_hooks: list[LikedReadHook] = []
        self.liked_page_holds: dict[tuple[str, int], LikedPageHold] = {}
        self.request_hooks: list[RequestHook] = []
        self.requests: list[LoggedRequest] = []
        self.base_url = ""
        self.clock: Callable[[], float] = time.time
        self.tokens = TokenBook(self.lock, lambda: self.clock())
        self.access_token_ttl_s = access_token_ttl_s
        self.refresh_rotation = refresh_rotation

    # --- setup ------------------------------------------------------------------------------

    def add_app(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.apps[client_id] = client_secret

    def add_user(
        self, user_id: str, display_name: str | None = None, library: list[Track] | None = None
    ) -> SandboxUser:
        """A user whose Liked Songs are `library`, newest first, liked an hour apart."""
        with self.lock:
            user = SandboxUser(user_id, display_name or user_id, account_id=spotify_id("account:" + user_id))
            start = datetime(2026, 11, 1, tzinfo=UTC)
            for index, track in enumerate(library or []):
                self.tracks[track.id] = track
                user.liked.append((track, start - timedelta(hours=index)))
            self.users[user_id] = user
            if self.default_user is None:
                self.default_user = user_id
            return user

    def add_tracks(self, tracks: Iterable[Track]) -> None:
        """Put songs in the catalogue (so they can be added to playlists) without anyone liking them."""
        with self.lock:
            for track in tracks:
                self.tracks[track.id] = track

    def like(self, user_id: str, tracks: list[Track]) -> None:
        with self.lock:
            user = self.users[user_id]
            for track in tracks:
                self.tracks[track.id] = track
                user.like(track)

    def unlike(self, user_id: str, track_ids: Iterable[str]) -> None:
        with self.lock:
            gone = set(track_ids)
            user = self.users[user_id]
            user.liked = [(t, at) for t, at in user.liked if t.id not in gone]

    def like_local_file(self, user_id: str, local: LocalFile) -> None:
        """A local file among Liked Songs: listed with `is_local` and null ids."""
        with self.lock:
            self.local_files[local.uri] = local
            self.users[user_id].liked.insert(0, (local, datetime.now(UTC)))

    def make_unavailable(self, track_ids: Iterable[str]) -> None:
        """Spotify stops serving these songs: playlist entries and liked songs show `"track": null`."""
        with self.lock:
            self.unavailable.update(track_ids)

    def relink(self, track_id: str, instead: Track) -> None:
        """Spotify serves `instead` where this song is not licensed: a request naming a market gets
        `instead` ("Track Relinking"), with `linked_from` naming `track_id` only for an app in extended
        quota mode (February 2026: "[REMOVED] linked_from" for development mode); one without a
        market gets `track_id`."""
        with self.lock:
            self.tracks[instead.id] = instead
            self.relinked[track_id] = instead

    def make_unlisted(self, track_ids: Iterable[str]) -> None:
        """Spotify counts these liked songs but leaves them out of Liked Songs pages (spotify/web-api#212):
        `total` and offsets still count them, so a page comes shorter than `limit` with `next` set,
        and the last one may be empty."""
        with self.lock:
            self.unlisted.update(track_ids)

    def make_unplayable(self, track_ids: Iterable[str]) -> None:
        """These songs play in no market: a request naming a market sees `is_playable: false`."""
        with self.lock:
            self.unplayable.update(track_ids)

    # --- playlists the users already have -----------------------------------------------------

    def add_playlist(
        self,
        owner_id: str,
        name: str,
        items: Iterable[PlaylistItem] = (),
        *,
        public: bool = False,
        collaborative: bool = False,
        description: str = "",
        playlist_id: str | None = None,
    ) -> SandboxPlaylist:
        """A playlist the user made in Spotify's app: songs, local files and episodes, in order.
        A collaborative playlist is never public (Spotify's rule)."""
        with self.lock:
            playlist = self.create_playlist(owner_id, name, description, public and not collaborative, playlist_id)
            playlist.collaborative = collaborative
            added = datetime(2026, 10, 1, tzinfo=UTC)
            for index, item in enumerate(items):
                playlist.items.append((self._register(item), added + timedelta(minutes=index)))
            return playlist

    def _register(self, item: PlaylistItem) -> str:
        if isinstance(item, LocalFile):
            self.local_files[item.uri] = item
        elif isinstance(item, Episode):
            self.episodes[item.id] = item
        else:
            self.tracks[item.id] = item
        return item.uri

    def follow(self, user_id: str, playlist_id: str) -> None:
        """The user saves someone else's playlist to their library."""
        with self.lock:
            self.playlists[playlist_id].followers.add(user_id)

    def collaborate(self, user_id: str, playlist_id: str) -> None:
        """The owner invites the user to a collaborative playlist; it shows in their library."""
        with self.lock:
            playlist = self.playlists[playlist_id]
            if not playlist.collaborative:
                raise ValueError("only a collaborative playlist has collaborators")
            playlist.collaborators.add(user_id)
            playlist.followers.add(user_id)

    def unfollow(self, user_id: str, playlist_id: str) -> None:
        """What Spotify's "delete playlist" does: the owner stops following it."""
        with self.lock:
            self.playlists[playlist_id].followers.discard(user_id)

    def create_playlist(
        self, owner_id: str, name: str, description: str, public: bool, playlist_id: str | None = None
    ) -> SandboxPlaylist:
        with self.lock:
            playlist = SandboxPlaylist(
                id=playlist_id or spotify_id(f"playlist:{owner_id}:{secrets.token_hex(8)}"),
                owner_id=owner_id,
                name=name,
                description=description,
                public=public,
                followers={owner_id},
            )
            self.playlists[playlist.id] = playlist
            return playlist

    def playlists_of(self, user_id: str) -> list[SandboxPlaylist]:
        """The user's library of playlists: owned, followed and collaborated on, in creation order."""
        with self.lock:
            return [p for p in self.playlists.values() if user_id in p.followers]

    def edit_by_hand(self, playlist_id: str, change: Callable[[SandboxPlaylist], None]) -> None:
        """A person changes the playlist in their Spotify app (adds, removes or moves songs, renames
        it, makes it collaborative): `change` edits it, and it gets a new snapshot id, as on any change."""
        with self.lock:
            playlist = self.playlists[playlist_id]
            change(playlist)
            playlist.snapshot += 1

    def after_request(self, method: str, path_prefix: str, action: Callable[[], None], *, count: int = 1) -> None:
        """Run `action` once the `count`-th request matching `method` and `path_prefix` has taken
        effect, before its answer leaves: what a member does in their app while a client writes."""
        with self.lock:
            self.request_hooks.append(RequestHook(method, path_prefix, count, action))

    def request_processed(self, method: str, path: str) -> None:
        with self.lock:
            _count_down(self.request_hooks, lambda h: h.method == method and path.startswith(h.path_prefix))

    # --- Liked Songs that change while a client reads them --------------------------------------

    def during_liked_read(self, user_id: str, action: Callable[[], None], *, after_page: int = 1) -> None:
        """Run `action` right after the user's `after_page`-th Liked Songs page is served, so a
        client paging by offset reads the rest of a library that has moved under it."""
        with self.lock:
            self.liked_read_hooks.append(LikedReadHook(user_id, after_page, action))

    def like_during_read(self, user_id: str, tracks: list[Track], *, after_page: int = 1) -> None:
        """Songs liked mid-read go to the top: later pages repeat songs and the oldest fall off."""
        self.during_liked_read(user_id, lambda: self.like(user_id, tracks), after_page=after_page)

    def hold_liked_page(
        self, user_id: str, offset: int, until: Callable[[], Awaitable[object]], *, then_status: int | None = None
    ) -> None:
        """Keep the user's Liked Songs page at `offset` waiting until `until()` returns (a page
        Spotify is slow to serve), so a test can see what a client does meanwhile; then answer it,
        or fail it with `then_status`. A client's retry waits too; after the release the hold is gone."""
        with self.lock:
            self.liked_page_holds[(user_id, offset)] = LikedPageHold(until, then_status)

    def liked_page_hold(self, user_id: str, offset: int) -> LikedPageHold | None:
        with self.lock:
            return self.liked_page_holds.get((user_id, offset))

    def release_liked_page(self, user_id: str, offset: int, hold: LikedPageHold) -> None:
        with self.lock:
            if self.liked_page_holds.get((user_id, offset)) is hold:
                del self.liked_page_holds[(user_id, offset)]

    def liked_page_served(self, user_id: str) -> None:
        with self.lock:
            _count_down(self.liked_read_hooks, lambda h: h.user_id == user_id)

    # --- trouble ----------------------------------------------------------------------------

    def inject(
        self,
        status: int | FaultAction,
        count: int = 1,
        *,
        retry_after: RetryAfter = None,
        reason: str | None = None,
        path_prefix: str = "/v1/",
        message: str | None = None,
        method: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """The next `count` requests matching `method` and `path_prefix` fail: `status` is an HTTP
        status to answer, or "drop" (close the connection unanswered), "hang" (never answer) or
        "cut" (send the real answer's headers and half its body, then break the connection; the
        request always takes effect) or "garbled" (answer 200 with a body that is not JSON: a
        proxy's HTML error page before processing, the real answer's first half under a matching
        Content-Length after it). With `after_processing=True` the request takes effect
        first, then its answer is lost."""
        action: FaultAction = "answer" if isinstance(status, int) else status
        after_processing = after_processing or action == "cut"
        code = status if isinstance(status, int) else 0
        with self.lock:
            for _ in range(count):
                self.faults.append(Fault(action, code, retry_after, reason, path_prefix,
                                         message or f"injected {status}", method, after_processing))

    def take_fault(self, method: str, path: str, *, after_processing: bool = False) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.after_processing == after_processing and fault.matches(method, path):
                    self.faults.remove(fault)
                    return fault
            return None

    def exceed_quota(self, retry_after: RetryAfter = 86_400, *, client_id: str | None = None,
                     lasts_s: float | None = None) -> None:
        """Every Web API call of `client_id` (None: every app) answers 429 QUOTA_EXCEEDED with
        `retry_after` sent as given (None: no header; "inf", "1e12", "soon" verbatim). The block
        lasts `lasts_s` seconds, else a positive finite numeric Retry-After, else until `lift_quota()`."""
        with self.lock:
            duration = lasts_s
            if duration is None and isinstance(retry_after, int | float) and 0 < retry_after < float("inf"):
                duration = float(retry_after)
            until = None if duration is None else self.clock() + duration
            self.quota.append(QuotaBlock(retry_after, until, client_id))

    def lift_quota(self) -> None:
        with self.lock:
            self.quota.clear()

    def quota_block(self, client_id: str) -> QuotaBlock | None:
        with self.lock:
            now = self.clock()
            return next((q for q in self.quota if q.applies(client_id, now)), None)

    def admit(self, client_id: str) -> float | None:
        """Count one Web API call against the app's rolling window; the wait if over budget."""
        with self.lock:
            if self.rate_limit is None:
                return None
            window = self.windows.setdefault(client_id, RollingWindow())
            return window.admit(self.rate_limit, self.clock())

    # --- tokens ------------------------------------------------------------------------------

    @property
    def access_token_ttl_s(self) -> float:
        return self.tokens.access_token_ttl_s

    @access_token_ttl_s.setter
    def access_token_ttl_s(self, value: float) -> None:
        self.tokens.access_token_ttl_s = value

    @property
    def refresh_rotation(self) -> RefreshRotation | None:
        """None: a refresh never returns a new refresh token (Spotify's usual answer in 2026)."""
        return self.tokens.rotation

    @refresh_rotation.setter
    def refresh_rotation(self, value: RefreshRotation | None) -> None:
        self.tokens.rotation = value

    def user_for_token(self, token: str) -> SandboxUser | None:
        grant = self.tokens.grant_for(token)
        return None if grant is None else self.users.get(grant.user_id)

    def expire_access_tokens(self) -> None:
        self.tokens.expire_access_tokens()

    def withhold_scopes(self, user_id: str, scopes: Iterable[str]) -> None:
        """Spotify grants this user none of `scopes` from now on, whatever an app asks for: the
        token answer's `scope` lists only what was granted, and calls needing the rest get 403,
        with the user's tokens issued before too (what a client that stored the scopes it asked
        for, not those granted, meets). An empty `scopes` grants everything again to new codes."""
        with self.lock:
            self.tokens.withhold(user_id, frozenset(scopes))

    def revoke_refresh_tokens(self, user_id: str) -> None:
        """As when a member removes the app, or six months have passed: refreshes get invalid_grant."""
        self.tokens.revoke(user_id)

    # --- the request log ------------------------------------------------------------------------

    def log(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests.append(LoggedRequest(method, path, status, self.clock()))

    def count(self, method: str | None = None, path_prefix: str = "/v1/") -> int:
        with self.lock:
            return sum(
                1 for r in self.requests if r.path.startswith(path_prefix) and (method is None or r.method == method)
            )

    # --- persistence (the demo keeps its playlists between runs) --------------------------------

    def save_playlists(self, path: Path) -> None:
        with self.lock:
            persistence.save_playlists(list(self.playlists.values()), path)

    def load_playlists(self, path: Path) -> int:
        loaded = persistence.load_playlists(path)
        with self.lock:
            for playlist in loaded:
                self.playlists[playlist.id] = playlist
        return len(loaded)
