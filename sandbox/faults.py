"""Trouble the sandbox can cause on purpose: injected faults, rate limits and quota blocks.

Three kinds, each matching something the real Spotify does:
- **Injected faults** (`Fault`): the next N requests that match a method and path prefix answer a
  status (429, 5xx...), drop the connection, hang until the client gives up, or cut the answer
  off halfway through its body (the connection breaks mid-transfer), or answer 200 with a body that
  is not JSON ("garbled": a proxy's or CDN's error page served as 200 before processing; after it,
  the real answer cut short under a Content-Length that says it is whole), either *before* the
  request is processed (nothing happened) or *after* it (the playlist exists, the songs were added,
  but the answer is lost). A cut always comes after processing: an answer was being sent.
- **Emergent rate limits** (`RateLimit`): Spotify counts each app's calls over a rolling
  30-second window and answers 429 with Retry-After once the app's budget is spent. Spotify does
  not publish the budget ("we don't provide any specific numbers", spotify/web-api#589), so it is
  a parameter; off unless set.
- **Quota blocks** (`QuotaBlock`): since 2026 an app over its quota gets 429s whose body says
  `"reason": "QUOTA_EXCEEDED"` with a Retry-After that can be hours, odd, or missing.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

FaultAction = Literal["answer", "drop", "hang", "cut", "garbled"]
RetryAfter = int | float | str | None


def retry_after_header(value: RetryAfter) -> dict[str, str]:
    """The Retry-After header exactly as given (None: no header), so clients meet odd values."""
    if value is None:
        return {}
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"Retry-After": str(value)}


@dataclass
class Fault:
    action: FaultAction
    status: int = 0  # for "answer"
    retry_after: RetryAfter = None
    reason: str | None = None
    path_prefix: str = "/v1/"
    message: str = "injected fault"
    method: str | None = None  # None: any method
    after_processing: bool = False  # True: the request takes effect, then the answer is lost

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in (None, method)


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` Web API calls per app in any rolling `window_s` seconds.

    With `penalty_s`, an app that exceeds its budget is refused for that long (developers report
    multi-hour Retry-Afters after bursts in development mode); without, the Retry-After is the
    time until the window has room again.
    """

    requests: int
    window_s: float = 30.0
    penalty_s: float | None = None

    def __post_init__(self) -> None:
        if self.requests < 1 or self.window_s <= 0 or (self.penalty_s is not None and self.penalty_s <= 0):
            raise ValueError("a rate limit needs a positive budget, window and penalty")


@dataclass
class RollingWindow:
    """The calls one app made inside the window, and until when it is being punished."""

    calls: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0

    def admit(self, limit: RateLimit, now: float) -> float | None:
        """Count a call at `now`; None when admitted, else the seconds to wait (a refused call
        does not count against the budget)."""
        if now < self.blocked_until:
            return self.blocked_until - now
        while self.calls and self.calls[0] <= now - limit.window_s:
            self.calls.popleft()
        if len(self.calls) < limit.requests:
            self.calls.append(now)
            return None
        if limit.penalty_s is not None:
            self.blocked_until = now + limit.penalty_s
            return limit.penalty_s
        return self.calls[0] + limit.window_s - now


def whole_seconds(wait_s: float) -> int:
    """Retry-After for an emergent 429: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))


@dataclass
class QuotaBlock:
    """An app (or every app) over quota: every Web API call answers 429 QUOTA_EXCEEDED until
    `until` (None: until `SandboxState.lift_quota`)."""

    retry_after: RetryAfter
    until: float | None
    client_id: str | None = None  # None: every app

    def applies(self, client_id: str, now: float) -> bool:
        return self.client_id in (None, client_id) and (self.until is None or now < self.until)
