"""The one process-wide gate every Spotify call passes, so the whole app waits as one.

Spotify counts an app's requests over a rolling 30-second window and answers 429 with a
Retry-After once it is over; since 2026 a 429 whose reason is QUOTA_EXCEEDED means the app's
quota is spent for hours. Each of those is a fact about the app, not about one call, so it is
kept here, once per `SpotifyApp`, and every call (and the weekly scheduler, through
`paused_until`) respects it:

- a **rolling budget**: at most `budget.requests` calls start in any `budget.window_s`, so a
  crowd of sorts slows down before Spotify has to say so;
- **blocked-until**: a 429's Retry-After holds back every caller, not only the one that got it;
- **jittered waits**: callers released together wake at spread-out moments, so 16 reader threads
  do not retry in the same millisecond and meet the next 429 together;
- a **quota pause**: after QUOTA_EXCEEDED no call reaches Spotify until the pause ends (on the
  wall clock, so a member can be told when); the first call after it probes again.

Waits longer than a caller may sit through raise at once (`SpotifyRateLimited`,
`SpotifyQuotaExceeded`) instead of holding a thread. Blocking, thread-safe.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.spotify.errors import SpotifyQuotaExceeded, SpotifyRateLimited

log = logging.getLogger(__name__)

# Spotify does not publish its budget ("we don't provide any specific numbers"); this default
# keeps one big first sort (~100 pages of Liked Songs plus its playlist writes) inside one window
# and a crowd of sorts well paced. SPOTIFY_REQUEST_BUDGET changes it.
DEFAULT_REQUESTS_PER_WINDOW = 180
SPOTIFY_WINDOW_S = 30.0


@dataclass(frozen=True)
class RequestBudget:
    requests: int = DEFAULT_REQUESTS_PER_WINDOW
    window_s: float = SPOTIFY_WINDOW_S
    # A call counts from when it is admitted, a little before Spotify sees it: keeping it in the
    # window this much longer means a late request never lands in Spotify's previous window.
    margin_s: float = 1.0

    def __post_init__(self) -> None:
        if self.requests < 1 or self.window_s <= 0 or self.margin_s < 0:
            raise ValueError("a request budget needs at least one request per positive window")


class SpotifyGate:
    """Blocked-until, a rolling budget, jittered waits and the quota pause, for the whole process."""

    def __init__(
        self,
        budget: RequestBudget | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter_s: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.budget = budget or RequestBudget()
        self._monotonic = monotonic
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._jitter_s = jitter_s
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()  # when admitted calls started, oldest first
        self._blocked_until = 0.0  # monotonic; from a 429's Retry-After
        self._paused_until: datetime | None = None  # wall clock; from QUOTA_EXCEEDED
        self._owner_premium_missing = False

    # --- admission ---------------------------------------------------------------------------

    def admit(self, *, max_wait_s: float) -> float:
        """Wait until a call may start and count it; returns its start (for `refund`).

        Raises SpotifyQuotaExceeded during a quota pause and SpotifyRateLimited when a 429's
        Retry-After would hold the call longer than `max_wait_s`, without waiting at all. The
        budget's own pacing is always waited out: it is never longer than one window (plus the
        margin), and a call that gave up on it would fail a sort Spotify never refused.
        """
        while True:
            with self._lock:
                self._raise_if_paused()
                now = self._monotonic()
                blocked = self._blocked_until - now
                if blocked > max_wait_s:
                    raise SpotifyRateLimited(blocked)
                wait = max(blocked, self._room_in(now))
                if wait <= 0:
                    self._starts.append(now)
                    return now
            # Spread the callers released at the same moment: each adds its own jitter.
            self._sleep(wait + self._rng.uniform(0, self._jitter_s))

    def refund(self, started: float) -> None:
        """A call Spotify refused with 429 did not count against its window: give its slot back."""
        with self._lock:
            try:
                self._starts.remove(started)
            except ValueError:
                pass  # already out of the window

    def _room_in(self, now: float) -> float:
        """Seconds until the rolling budget has room for one more call (at most one window + margin)."""
        window = self.budget.window_s + self.budget.margin_s
        while self._starts and self._starts[0] <= now - window:
            self._starts.popleft()
        if len(self._starts) < self.budget.requests:
            return 0.0
        return self._starts[len(self._starts) - self.budget.requests] + window - now

    # --- what Spotify said ----------------------------------------------------------------------

    def rate_limited(self, retry_after_s: float) -> None:
        """Spotify answered 429: every caller waits `retry_after_s` from now."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._monotonic() + retry_after_s)

    def quota_exceeded(self, retry_after_s: float) -> SpotifyQuotaExceeded:
        """Spotify answered QUOTA_EXCEEDED: pause all Spotify work; the error to raise."""
        with self._lock:
            now = self._wall_clock()
            until = now + timedelta(seconds=retry_after_s)
            if self._paused_until is None or until > self._paused_until:
                if self._paused_until is None:
                    log.warning("Spotify quota exceeded: all Spotify work pauses until %s", until.isoformat())
                self._paused_until = until
            return SpotifyQuotaExceeded((self._paused_until - now).total_seconds(), now=now)

    def paused_until(self) -> datetime | None:
        """When a quota pause ends, or None when Spotify work may run (the scheduler asks this)."""
        with self._lock:
            if self._paused_until is not None and self._wall_clock() >= self._paused_until:
                log.info("Spotify quota pause is over: Spotify work resumes")
                self._paused_until = None
            return self._paused_until

    def _raise_if_paused(self) -> None:
        if self._paused_until is None:
            return
        now = self._wall_clock()
        if now >= self._paused_until:
            log.info("Spotify quota pause is over: Spotify work resumes")
            self._paused_until = None
            return
        raise SpotifyQuotaExceeded((self._paused_until - now).total_seconds(), now=now)

    def owner_premium_required(self) -> None:
        """Spotify refuses the app because its owner has no Premium: tell the operator once."""
        with self._lock:
            if self._owner_premium_missing:
                return
            self._owner_premium_missing = True
        log.error(
            "Spotify refuses every call of this app: 'Active premium subscription required for the owner "
            "of the app'. The Spotify account that owns the app in the Developer Dashboard needs Premium; "
            "members are told the bot cannot reach Spotify until then."
        )

    def answered(self) -> None:
        """A call succeeded: a Premium refusal logged before is over."""
        if self._owner_premium_missing:
            with self._lock:
                self._owner_premium_missing = False
            log.warning("Spotify accepts this app's calls again (the owner's Premium is back)")
