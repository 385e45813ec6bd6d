"""The fault policy every Spotify call goes through, for the app's token exchange and members' calls.

Each call first passes the app-wide `SpotifyGate` (rate budget, Retry-After, quota pause). Then
Spotify's answer decides, by status code and typed fields, never by searching its text:

- 429 with `reason: QUOTA_EXCEEDED` pauses all Spotify work (`SpotifyQuotaExceeded`) at once;
  any other 429 blocks the gate for its Retry-After and the call tries again (bounded);
- 401 refreshes the access token once; a refresh answered `invalid_grant` means link again;
- the accounts service's token endpoint (the code exchange, a refresh) is read by its HTTP status
  first: a 429 blocks the gate for its Retry-After as a Web API 429 does, and a 5xx, a timeout, a
  dropped connection, an answer broken off or a 200 whose body is not JSON is never taken for a
  revoked authorisation. A refresh is then made again like a read (it saves nothing until
  answered, and the refresh token kept stays good: Spotify does not revoke a client-secret app's
  refresh token on a refresh); a code exchange whose answer was lost or unreadable is not (a code
  is good once: `idempotent=False`);
- 403 is `OwnerPremiumRequired`, `UserNotRegistered` or `ScopesMissing` (link again) when Spotify's
  error message is one it sends for those (nothing else tells these 403s apart; the unlisted user's
  has been worded four ways since 2021, each recognised), else `SpotifyRefused(403)`;
- 5xx, timeouts, dropped connections, answers broken off mid-body and 2xx answers whose body is
  not JSON retry with exponential backoff and jitter, a bounded number of times, but only for
  calls that are safe to repeat: a write that may have happened (`idempotent=False`) raises
  `WriteOutcomeUnknown` instead, and its caller re-reads Spotify.

A Retry-After that is missing, unreadable, not finite or absurd is never slept through or turned
into a date blindly: `retry_after_s` bounds it. The loop is tenacity's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, TypeVar

import requests
import tenacity
from spotipy.exceptions import SpotifyException, SpotifyOauthError

from bot.spotify.errors import (
    AppCredentialsRejected,
    NeedsRelink,
    OwnerPremiumRequired,
    ScopesMissing,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
    WriteOutcomeUnknown,
)
from bot.spotify.gate import SpotifyGate

T = TypeVar("T")

# An answer that broke off while it was being read (the connection failed mid-body): requests
# raises these, not ConnectionError, so they are named apart. The request may have taken effect.
_BROKEN_ANSWER = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
# A token endpoint answer of 200 whose body is not JSON (a proxy's or CDN's page served as 200, a body
# cut short under a wrong length): spotipy's code exchange and refresh call `response.json()` outside
# their error handling, so requests' JSONDecodeError reaches us. The request may have taken effect.
# (A Web API answer's is swallowed by spotipy's `_internal_call`, which returns None instead: see
# `answers` in call_with_policy.)
_UNREADABLE_ANSWER = requests.exceptions.JSONDecodeError

# Bounds for Retry-After values Spotify (or a proxy) gets wrong: missing or unreadable means the
# default; longer than the cap ("1e12", "inf") means the cap, after which the first call asks again.
DEFAULT_RATE_LIMIT_WAIT_S = 5.0
MAX_RATE_LIMIT_WAIT_S = 3_600.0  # Spotify has answered bursts with hour-long Retry-Afters
DEFAULT_QUOTA_PAUSE_S = 3_600.0
MAX_QUOTA_PAUSE_S = 86_400.0

# The exact messages Spotify sends with these 403s (compared case-insensitively: the first whole,
# the others as the start of the message).
OWNER_PREMIUM_MESSAGE = "active premium subscription required for the owner of the app"
# A user the development-mode app's owner has not listed, in each wording Spotify has used.
UNREGISTERED_USER_MESSAGES = (
    "the user is not registered for this application",  # 2026 (Lioncat6/OSC-Chat-Tools#32)
    # 2024-2025 (sigma67/spotify_to_ytmusic#122)
    "check settings on developer.spotify.com/dashboard, the user may not be registered",
    "user not registered in the developer dashboard",  # 2021-2023 (spotipy-dev/spotipy#1044)
    "user not approved for app",  # 2021 (spotipy-dev/spotipy#688)
)
INSUFFICIENT_SCOPE_MESSAGE = "insufficient client scope"


class SpotifyRefused(SpotifyError):
    """A 4xx Spotify answered that no other type covers; `status` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"Spotify answered {status}: {message[:200]}")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries per call on 5xx, timeouts and dropped connections
    max_rate_limit_waits: int = 12  # 429s per call before giving up
    max_wait_s: float = 30.0  # longest wait a call sits through in the gate; longer ones raise
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep


Retry = Literal["transient", "rate_limited", "refreshed"]


class _TryAgain(Exception):
    """One failed attempt that may be tried again; `error` is raised if the policy gives up."""

    def __init__(self, error: SpotifyError, kind: Retry) -> None:
        super().__init__(str(error))
        self.error = error
        self.kind = kind


class _AttemptCounter:
    """Counts failed attempts by kind, for tenacity's stop and wait decisions."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.transient = 0
        self.rate_limited = 0

    def count(self, state: tenacity.RetryCallState) -> None:
        kind = _kind(state)
        if kind == "transient":
            self.transient += 1
        elif kind == "rate_limited":
            self.rate_limited += 1

    def stop(self, state: tenacity.RetryCallState) -> bool:
        return (
            self.transient >= self.policy.max_attempts
            or self.rate_limited > self.policy.max_rate_limit_waits
        )

    def wait(self, state: tenacity.RetryCallState) -> float:
        if _kind(state) != "transient":
            return 0.0  # a 429's wait happens in the gate, for every caller at once
        delay = min(self.policy.backoff_cap_s, self.policy.backoff_base_s * 2 ** (self.transient - 1))
        return delay * tenacity.wait_random(0.5, 1.0)(state)


def _kind(state: tenacity.RetryCallState) -> Retry | None:
    error = state.outcome.exception() if state.outcome else None
    return error.kind if isinstance(error, _TryAgain) else None


def call_with_policy(
    fn: Callable[[], T],
    policy: RetryPolicy,
    gate: SpotifyGate,
    on_unauthorised: Callable[[], None] | None = None,
    *,
    idempotent: bool = True,
    answers: bool = True,
) -> T:
    """Run one Spotify call under genrebot's fault policy; every failure leaves as a typed error.

    `answers`: the call's 2xx carries a JSON body. spotipy returns None for a 2xx whose body it
    cannot parse (an error page a proxy served as 200, a body cut short under a wrong length), so
    None from such a call is an unreadable answer: a read is made again, a write's outcome is
    unknown. Only a call Spotify answers with an empty body passes False."""
    refreshed = False

    def attempt() -> T:
        nonlocal refreshed
        started = gate.admit(max_wait_s=policy.max_wait_s)
        try:
            result = fn()
        except SpotifyOauthError as exc:
            raise _oauth_failure(exc, gate) from None
        except SpotifyException as exc:
            if exc.http_status == 429:
                gate.refund(started)
            if exc.http_status == 401 and on_unauthorised is not None and not refreshed:
                _refresh(on_unauthorised, gate)
                refreshed = True  # only once it was answered: a refresh that failed is made again
                raise _TryAgain(NeedsRelink(), "refreshed") from None
            raise _web_api_failure(exc, gate, idempotent=idempotent) from None
        except requests.ConnectTimeout:
            # Never connected, so nothing was sent: safe to repeat even for a write.
            raise _TryAgain(SpotifyUnavailable("no answer from Spotify (connection timed out)"), "transient") from None
        except _UNREADABLE_ANSWER:
            raise _unreadable_answer(idempotent=idempotent) from None
        except (requests.ConnectionError, requests.Timeout, *_BROKEN_ANSWER):
            if not idempotent:
                raise WriteOutcomeUnknown("the connection to Spotify failed during a write") from None
            raise _TryAgain(
                SpotifyUnavailable("no answer from Spotify (connection failed or timed out)"), "transient"
            ) from None
        if result is None and answers:
            raise _unreadable_answer(idempotent=idempotent)
        gate.answered()
        return result

    counter = _AttemptCounter(policy)
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_TryAgain),
        after=counter.count,
        stop=counter.stop,
        wait=counter.wait,
        sleep=policy.sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _TryAgain as gave_up:
        raise gave_up.error from None


def _unreadable_answer(*, idempotent: bool) -> Exception:
    """An answer that came but could not be read (spotipy's JSONDecodeError, or its None for a 2xx):
    the request may have taken effect, so a read is made again and a write's outcome is unknown."""
    if not idempotent:
        return WriteOutcomeUnknown("Spotify's answer to a write could not be read")
    return _TryAgain(SpotifyUnavailable("Spotify's answer could not be read"), "transient")


def _refresh(refresh: Callable[[], None], gate: SpotifyGate) -> None:
    """The refresh a 401 asks for, its failures typed as the token endpoint's answers are.

    A refresh is safe to make again: nothing is saved until Spotify's answer has been read, so
    after a lost answer the member's refresh token is the one Spotify still takes."""
    try:
        refresh()
    except SpotifyOauthError as exc:
        raise _oauth_failure(exc, gate) from None
    except (requests.ConnectionError, requests.Timeout, *_BROKEN_ANSWER):
        raise _TryAgain(
            SpotifyUnavailable("no answer from Spotify's accounts service (connection failed or timed out)"),
            "transient",
        ) from None
    except _UNREADABLE_ANSWER:
        raise _TryAgain(
            SpotifyUnavailable("Spotify's accounts service answered with a body that is not JSON"), "transient"
        ) from None


def _oauth_failure(exc: SpotifyOauthError, gate: SpotifyGate) -> Exception:
    """The accounts service's answer to a code exchange or a token refresh: its status decides
    first, so only a refusal (4xx) can mean "link again", whatever a 429's or a 5xx's body says."""
    answer = _token_answer(exc)
    status = answer.status_code if answer is not None else None
    if answer is not None and status == 429:
        wait = retry_after_s(answer.headers, default=DEFAULT_RATE_LIMIT_WAIT_S, cap=MAX_RATE_LIMIT_WAIT_S)
        gate.rate_limited(wait)
        return _TryAgain(SpotifyRateLimited(wait), "rate_limited")
    if status is not None and status >= 500:
        return _TryAgain(SpotifyUnavailable(f"Spotify's accounts service answered {status}"), "transient")
    if exc.error in ("invalid_grant", "invalid_token"):
        return NeedsRelink()
    if exc.error == "invalid_client":
        return AppCredentialsRejected(exc.error_description or "")
    return _TryAgain(SpotifyUnavailable("Spotify's accounts service did not answer"), "transient")


def _token_answer(exc: SpotifyOauthError) -> requests.Response | None:
    """The token endpoint's HTTP answer behind spotipy's error. spotipy raises SpotifyOauthError
    while handling the HTTPError and keeps neither the status nor the headers (Retry-After), so
    they are read from that HTTPError, the exception's context."""
    context = exc.__context__
    return context.response if isinstance(context, requests.HTTPError) else None


def _web_api_failure(exc: SpotifyException, gate: SpotifyGate, *, idempotent: bool) -> Exception:
    """The typed error (or the retry) for one failed Web API answer, decided by its status."""
    status = exc.http_status
    if status == 429:
        if exc.reason == "QUOTA_EXCEEDED":
            pause = retry_after_s(exc.headers, default=DEFAULT_QUOTA_PAUSE_S, cap=MAX_QUOTA_PAUSE_S)
            return gate.quota_exceeded(pause)
        wait = retry_after_s(exc.headers, default=DEFAULT_RATE_LIMIT_WAIT_S, cap=MAX_RATE_LIMIT_WAIT_S)
        gate.rate_limited(wait)
        return _TryAgain(SpotifyRateLimited(wait), "rate_limited")
    if status == 403:
        message = spotify_message(exc).lower().rstrip(".")
        if message == OWNER_PREMIUM_MESSAGE:
            gate.owner_premium_required()
            return OwnerPremiumRequired()
        if message.startswith(UNREGISTERED_USER_MESSAGES):
            return UserNotRegistered()
        if message == INSUFFICIENT_SCOPE_MESSAGE:  # a token stored with the scopes asked for, not those granted
            return ScopesMissing()
    if status == 401:
        return NeedsRelink("Spotify refused this member's access token")
    if status is not None and status >= 500:
        if not idempotent:
            return WriteOutcomeUnknown(f"Spotify answered {status} to a write")
        return _TryAgain(SpotifyUnavailable(f"Spotify answered {status}"), "transient")
    if status is not None and 400 <= status < 500:
        return SpotifyRefused(status, spotify_message(exc))
    return SpotifyError(f"Spotify answered {status}: {spotify_message(exc)[:200]}")


def spotify_message(exc: SpotifyException) -> str:
    """The `message` of Spotify's error body (spotipy prefixes it with the request URL)."""
    return (exc.msg or "").split(":\n ", 1)[-1].strip()


def retry_after_s(headers: Mapping[str, str] | None, *, default: float, cap: float) -> float:
    """Seconds a Retry-After asks for, always finite and at most `cap`.

    Missing, unreadable, negative or not-a-number values give `default`; `inf`, `1e12` and other
    values over the cap give the cap. An HTTP date (allowed by RFC 9110) counts from now.
    """
    raw = (headers or {}).get("Retry-After")
    if raw is None:
        return default
    text = str(raw).strip()
    try:
        value = float(text)
    except ValueError:
        try:
            value = (parsedate_to_datetime(text) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return default
    if math.isnan(value) or value < 0:
        return default
    return min(value, cap)
