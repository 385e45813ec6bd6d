"""Discord's rate limits as the stand-in applies them: per-route buckets, a global limit, and the
invalid-request ceiling that ends in a Cloudflare ban.

A bucket is a fixed window: the first request opens it, `limit` requests fit in it, it closes
`per_s` seconds later. Buckets are kept per top-level resource (the channel, the guild, or the
webhook id + token), as Discord does, and several routes may share one bucket (the interaction
webhook's follow-ups, edits and reads do), which the `X-RateLimit-Bucket` hash tells the client.
Every answer on a limited route carries `X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`;
a 429 adds `Retry-After` (whole seconds, rounded up), `X-RateLimit-Scope`, `X-RateLimit-Global`
for the global limit, and a JSON body with `message`, `retry_after` (float) and `global`.
Interaction endpoints (callbacks, and follow-ups/edits on the interaction token) are not bound
by the global limit, as on Discord.

Discord publishes no per-route figures ("should not be hard coded"); the defaults below are the
commonly observed ones where they are known (5 messages per 5 s per channel, 5 per 2 s per
webhook, 50 requests per second globally, 10,000 invalid requests per 10 minutes) and stand-in
choices elsewhere. Every one is configurable; `None` switches a bucket off.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from tests.discord_standin.records import RateLimitHit


@dataclass(frozen=True)
class Bucket:
    limit: int
    per_s: float


@dataclass(frozen=True)
class RateLimits:
    """Every limit the stand-in enforces; pass one to `DiscordStandIn(rate_limits=...)`."""

    global_per_s: int | None = 50
    channel_messages: Bucket | None = Bucket(5, 5.0)  # POST /channels/{id}/messages, per channel
    interaction_webhook: Bucket | None = Bucket(5, 2.0)  # follow-ups, edits, reads: per interaction token
    dm_channels: Bucket | None = Bucket(10, 10.0)  # POST /users/@me/channels
    guild_members: Bucket | None = Bucket(10, 1.0)  # GET /guilds/{id}/members..., per guild
    command_sync: Bucket | None = Bucket(5, 20.0)  # PUT /applications/{id}/commands, per guild (or global)
    other: Bucket | None = Bucket(30, 1.0)  # any other known route, per route
    invalid_requests: Bucket | None = Bucket(10_000, 600.0)  # 401/403/429 before a Cloudflare ban
    cloudflare_ban_s: float = 3600.0

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No limit at all (for a test about something else that must not meet one)."""
        return cls(global_per_s=None, channel_messages=None, interaction_webhook=None, dm_channels=None,
                   guild_members=None, command_sync=None, other=None, invalid_requests=None)

    def with_(self, **changes: Any) -> RateLimits:
        return replace(self, **changes)


@dataclass(frozen=True)
class RouteLimit:
    """Where one request falls: its bucket's name, figures, top-level resource, global or not."""

    bucket: str
    figures: Bucket | None
    resource: str = ""
    counts_globally: bool = True


@dataclass
class _Window:
    opened_at: float
    per_s: float
    used: int = 0

    def reset_after(self, now: float) -> float:
        return max(0.0, self.opened_at + self.per_s - now)


@dataclass
class Throttle:
    """A fault hook: the next `count` matching requests get a 429 whatever the buckets say."""

    count: int
    retry_after: float
    scope: str  # "user", "shared" or "global"
    method: str | None = None
    path_prefix: str = ""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)


@dataclass
class Decision:
    """The limiter's verdict: headers to add, and a 429 (status, body) when refused."""

    headers: dict[str, str]
    refused: RateLimitHit | None = None
    body: dict[str, Any] | None = None
    banned: bool = False


def bucket_hash(name: str) -> str:
    """A stable opaque id for a bucket, like Discord's X-RateLimit-Bucket."""
    return hashlib.sha1(name.encode()).hexdigest()[:16]


def _seconds(value: float) -> str:
    """Reset-After rounded up to the millisecond, so a client that waits it is never early."""
    return f"{math.ceil(value * 1000) / 1000:.3f}"


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    hits: list[RateLimitHit] = field(default_factory=list)
    throttles: list[Throttle] = field(default_factory=list)
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _global: _Window | None = None
    _invalid: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0

    def check(self, method: str, path: str, route: RouteLimit | None, now: float) -> Decision:
        """Count the request against its bucket and the global limit, or refuse it with a 429."""
        if now < self.banned_until:
            return Decision({}, banned=True)
        throttle = next((t for t in self.throttles if t.matches(method, path)), None)
        if throttle is not None:
            throttle.count -= 1
            if throttle.count <= 0:
                self.throttles.remove(throttle)
            return self._refuse(method, path, "injected", throttle.scope, throttle.retry_after, now, {})
        if route is not None and route.counts_globally and self.limits.global_per_s:
            if self._global is None or self._global.reset_after(now) <= 0:
                self._global = _Window(now, 1.0)
            if self._global.used >= self.limits.global_per_s:
                return self._refuse(method, path, "global", "global", self._global.reset_after(now), now, {})
            self._global.used += 1
        if route is None or route.figures is None:
            return Decision({})
        key = (route.bucket, route.resource)
        window = self._windows.get(key)
        if window is None or window.reset_after(now) <= 0:
            window = self._windows[key] = _Window(now, route.figures.per_s)
        reset_after = window.reset_after(now)
        headers = {
            "X-RateLimit-Limit": str(route.figures.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": _seconds(reset_after),
            "X-RateLimit-Bucket": bucket_hash(route.bucket),
        }
        if window.used >= route.figures.limit:
            headers["X-RateLimit-Remaining"] = "0"
            return self._refuse(method, path, route.bucket, "user", reset_after, now, headers)
        window.used += 1
        headers["X-RateLimit-Remaining"] = str(route.figures.limit - window.used)
        return Decision(headers)

    def _refuse(self, method: str, path: str, bucket: str, scope: str, retry_after: float, now: float,
                headers: dict[str, str]) -> Decision:
        hit = RateLimitHit(method, path, bucket, scope, retry_after, now)
        self.hits.append(hit)
        if scope != "shared":  # Discord does not count shared-resource 429s as invalid requests
            self.count_invalid(now)
        headers = {**headers, "Retry-After": str(max(1, math.ceil(retry_after))), "X-RateLimit-Scope": scope}
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        message = "The resource is being rate limited." if scope == "shared" else "You are being rate limited."
        body = {"message": message, "retry_after": round(retry_after, 3), "global": scope == "global"}
        return Decision(headers, hit, body)

    def count_invalid(self, now: float) -> None:
        """A 401, 403 or 429 answer; too many in the window and the client is banned for a while."""
        figures = self.limits.invalid_requests
        if figures is None:
            return
        self._invalid.append(now)
        while self._invalid and self._invalid[0] <= now - figures.per_s:
            self._invalid.popleft()
        if len(self._invalid) >= figures.limit:
            self.banned_until = now + self.limits.cloudflare_ban_s
            self._invalid.clear()
