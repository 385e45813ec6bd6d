"""One member's Spotify client, and the fault policy every call goes through.

Policy: a 429 waits out a short Retry-After and tries again (bounded); a 429 that says
QUOTA_EXCEEDED stops at once with the time work can resume; 5xx, timeouts and dropped
connections retry with exponential backoff and jitter, a bounded number of times; an expired
access token is refreshed (spotipy does this before expiry, and once more on a 401); a refresh
answered `invalid_grant` means the member must link again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import spotipy
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from bot.spotify.errors import (
    NeedsRelink,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)
from music import Track

if TYPE_CHECKING:
    from bot.spotify.app import SpotifyApp

T = TypeVar("T")
PAGE_SIZE = 50


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries per call on 5xx, timeouts and dropped connections
    max_rate_limit_waits: int = 12  # Retry-After waits per call before giving up
    max_wait_s: float = 30.0  # longest Retry-After we sit through; longer ones become errors
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep


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


@dataclass(frozen=True)
class PlaylistRef:
    id: str
    url: str


def _retry_after(exc: SpotifyException) -> float:
    headers = exc.headers or {}
    try:
        return max(0.0, float(headers.get("Retry-After", headers.get("retry-after", 1))))
    except (TypeError, ValueError):
        return 1.0


def _is_quota(exc: SpotifyException) -> bool:
    return (exc.reason or "") == "QUOTA_EXCEEDED" or "QUOTA_EXCEEDED" in (exc.msg or "")


def call_with_policy(fn: Callable[[], T], policy: RetryPolicy, on_unauthorised: Callable[[], None] | None = None) -> T:
    """Run one Spotify call under genrebot's fault policy."""
    refreshed = False
    attempt = 0
    waits = 0
    while True:
        attempt += 1
        last = attempt >= policy.max_attempts
        try:
            return fn()
        except SpotifyOauthError as exc:
            if exc.error in ("invalid_grant", "invalid_token"):
                raise NeedsRelink() from None
            if exc.error == "invalid_client":
                raise SpotifyError("Spotify rejected the app's client id or secret") from None
            if last:
                raise SpotifyUnavailable("Spotify's accounts service did not answer") from None
        except SpotifyException as exc:
            status = exc.http_status
            if status == 429:
                wait = _retry_after(exc)
                if _is_quota(exc):
                    raise SpotifyQuotaExceeded(wait) from None
                waits += 1
                if wait > policy.max_wait_s or waits > policy.max_rate_limit_waits:
                    raise SpotifyRateLimited(wait) from None
                policy.sleep(wait)
                attempt -= 1  # waiting out a rate limit is not a failed attempt
                continue
            if status == 401 and on_unauthorised is not None and not refreshed:
                refreshed = True
                attempt -= 1
                try:
                    on_unauthorised()
                except SpotifyOauthError as oauth_error:
                    if oauth_error.error in ("invalid_grant", "invalid_token"):
                        raise NeedsRelink() from None
                    raise SpotifyUnavailable("Spotify's accounts service did not answer") from None
                continue
            if status == 401:
                raise NeedsRelink("Spotify refused this member's access token") from None
            if status == 403 and "registered" in (exc.msg or "").lower():
                raise UserNotRegistered() from None
            if status is not None and status >= 500:
                if last:
                    raise SpotifyUnavailable(f"Spotify answered {status}") from None
            else:
                raise SpotifyError(f"Spotify answered {status}: {_short(exc.msg)}") from None
        except (requests.ConnectionError, requests.Timeout):
            if last:
                raise SpotifyUnavailable("no answer from Spotify (connection failed or timed out)") from None
        delay = min(policy.backoff_cap_s, policy.backoff_base_s * 2 ** (attempt - 1))
        policy.sleep(delay * random.uniform(0.5, 1.0))


def _short(message: str | None) -> str:
    text = (message or "").split("\n")[-1].strip()
    return text[:200]


class SpotifyUserClient:
    """A spotipy client for one member, seeded with their token; safe to share across threads."""

    def __init__(self, app: SpotifyApp, token_info: dict[str, Any]) -> None:
        self.app = app
        self.auth = app.auth_manager(token_info)
        self.sp = spotipy.Spotify(
            auth_manager=self.auth,
            requests_session=app.session,
            requests_timeout=app.timeout_s,
            retries=0,
        )
        self.sp.prefix = app.api_base + "/"
        self.requests_made = 0
        self._count_lock = threading.Lock()

    @property
    def token_info(self) -> dict[str, Any] | None:
        token: dict[str, Any] | None = self.auth.cache_handler.get_cached_token()
        return token

    def _force_refresh(self) -> None:
        token = self.token_info
        if token and token.get("refresh_token"):
            self.auth.refresh_access_token(token["refresh_token"])

    def call(self, fn: Callable[[], T]) -> T:
        def counted() -> T:
            with self._count_lock:
                self.requests_made += 1
            return fn()

        return call_with_policy(counted, self.app.policy, self._force_refresh)

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
        for item in page.get("items") or []:
            track = track_from_api(item.get("track") or item.get("item"))
            if track is not None:
                items.append((track, _parse_time(item.get("added_at"))))
        total = int(page.get("total") or 0)
        next_offset = offset + limit if page.get("next") and offset + limit < total else None
        return LikedPage(items, total, next_offset)

    def audio_features(self, ids: list[str]) -> dict[str, dict[str, float]]:
        """Audio features by track id (raises SpotifyError with status 403 for most apps)."""
        result = self.call(lambda: self.sp._get("audio-features/?ids=" + ",".join(ids)))
        features: dict[str, dict[str, float]] = {}
        for entry in (result or {}).get("audio_features") or []:
            if entry and entry.get("id"):
                features[entry["id"]] = {
                    k: float(v) for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)
                }
        return features

    # --- playlists ---------------------------------------------------------------------------

    def create_playlist(self, name: str, description: str, public: bool = False) -> PlaylistRef:
        created = self.call(
            lambda: self.sp.current_user_playlist_create(name, public=public, description=description)
        )
        return PlaylistRef(created["id"], _playlist_url(created))

    def playlist_is_followed(self, playlist_id: str) -> bool:
        """Whether the member still has this playlist: Spotify's "delete" is an unfollow."""
        answer = self.call(lambda: self.sp._get("me/library/contains", uris=f"spotify:playlist:{playlist_id}"))
        return bool(answer and answer[0])

    def playlist_item_uris(self, playlist_id: str) -> list[str]:
        uris: list[str] = []
        offset = 0
        while True:
            page = self._items_page(playlist_id, offset)
            for item in page.get("items") or []:
                entry = item.get("item") or item.get("track")
                if entry and entry.get("uri"):
                    uris.append(entry["uri"])
            if not page.get("next"):
                return uris
            offset += PAGE_SIZE

    def _items_page(self, playlist_id: str, offset: int) -> dict[str, Any]:
        return dict(self.call(lambda: self.sp.playlist_items(playlist_id, limit=PAGE_SIZE, offset=offset)))

    def replace_playlist_items(self, playlist_id: str, uris: list[str]) -> None:
        """PUT the first 100, then POST the rest in order (Spotify takes 100 per request)."""
        self.call(lambda: self.sp.playlist_replace_items(playlist_id, uris[:100]))
        for start in range(100, len(uris), 100):
            self._add_items(playlist_id, uris[start : start + 100])

    def _add_items(self, playlist_id: str, chunk: list[str]) -> None:
        self.call(lambda: self.sp.playlist_add_items(playlist_id, chunk))

    def add_playlist_items(self, playlist_id: str, uris: list[str], position: int | None = None) -> None:
        """Insert up to 100 songs at `position` (the end when None)."""
        self.call(lambda: self.sp.playlist_add_items(playlist_id, uris, position=position))

    def update_playlist_details(self, playlist_id: str, name: str, description: str) -> None:
        self.call(lambda: self.sp.playlist_change_details(playlist_id, name=name, description=description))


def track_from_api(data: dict[str, Any] | None) -> Track | None:
    """A Track from Spotify's track object; None for local files and removed tracks."""
    if not data or not data.get("id") or data.get("type", "track") != "track":
        return None
    album = data.get("album") or {}
    artists = data.get("artists") or []
    return Track(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        artists=tuple(str(a.get("name") or "") for a in artists),
        artist_ids=tuple(str(a.get("id") or "") for a in artists),
        album=str(album.get("name") or ""),
        release_date=album.get("release_date") or None,
        duration_ms=data.get("duration_ms"),
        explicit=data.get("explicit"),
        audio_features=None,
    )


def _parse_time(value: str | None) -> datetime:
    from datetime import UTC

    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _playlist_url(playlist: dict[str, Any]) -> str:
    url = (playlist.get("external_urls") or {}).get("spotify")
    return str(url or f"https://open.spotify.com/playlist/{playlist['id']}")
