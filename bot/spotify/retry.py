"""The fault policy every Spotify call goes through, for the app's token exchange and members' calls.

A 429 waits out a short Retry-After and tries again (bounded); a 429 that says QUOTA_EXCEEDED
stops at once with the time work can resume; 5xx, timeouts and dropped connections retry with
exponential backoff and jitter, a bounded number of times; a 401 refreshes the access token once;
a refresh answered `invalid_grant` means the member must link again. Each failure leaves as one
of the typed errors in `bot.spotify.errors`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from bot.spotify.errors import (
    NeedsRelink,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries per call on 5xx, timeouts and dropped connections
    max_rate_limit_waits: int = 12  # Retry-After waits per call before giving up
    max_wait_s: float = 30.0  # longest Retry-After we sit through; longer ones become errors
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep


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
            if status == 403 and is_unregistered_user(exc):
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


def is_unregistered_user(exc: SpotifyException) -> bool:
    """A development-mode app's 403 for a Spotify user who is not on its list of five."""
    return "registered" in (exc.msg or "").lower()


def _retry_after(exc: SpotifyException) -> float:
    headers = exc.headers or {}
    try:
        return max(0.0, float(headers.get("Retry-After", headers.get("retry-after", 1))))
    except (TypeError, ValueError):
        return 1.0


def _is_quota(exc: SpotifyException) -> bool:
    return (exc.reason or "") == "QUOTA_EXCEEDED" or "QUOTA_EXCEEDED" in (exc.msg or "")


def _short(message: str | None) -> str:
    text = (message or "").split("\n")[-1].strip()
    return text[:200]
