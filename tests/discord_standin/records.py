"""What the stand-in remembers: the messages the bot produced, the requests it made, each
interaction's life, and every 429 it was answered with, so tests can assert on them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    """One message the bot produced. For kind "edit" it is the full state after that edit."""

    content: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    kind: str = "callback"  # "callback", "edit", "followup", "dm"
    id: int = 0


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any
    files: list[tuple[str, bytes]]
    at: float  # on the stand-in's clock
    status: int = 0  # filled in once answered
    headers: dict[str, str] = field(default_factory=dict)  # the answer's rate-limit headers


@dataclass
class RateLimitHit:
    """One 429 the stand-in answered: which bucket, and how long the client was told to wait."""

    method: str
    path: str
    bucket: str  # the bucket's name ("channel-messages", "global", "injected"...)
    scope: str  # Discord's X-RateLimit-Scope: "user", "global" or "shared"
    retry_after: float
    at: float  # on the stand-in's clock


@dataclass
class ServerFault:
    """A fault hook: the next `count` matching requests get `status` (a Discord outage) instead of
    an answer. discord.py tries again by itself: its webhook adapter (interaction edits and
    follow-ups) any 5xx, five tries in all, sleeping 1, 3, 5, 7 and 9 s; its REST client 500, 502,
    504 and 524 (it raises 503 at once). `status` 0: the connection is closed unanswered.
    `after_processing`: the request takes effect (a DM is delivered), then the connection is
    closed unanswered: the bot cannot tell whether it arrived. `until`: the request waits for it
    first (a slow Discord), so a test can stop the bot meanwhile."""

    count: int
    status: int
    method: str | None = None
    path_prefix: str = ""
    after_processing: bool = False
    until: Callable[[], Awaitable[object]] | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)


@dataclass
class InteractionRecord:
    id: int
    token: str
    command: str
    user_id: int
    dispatched_at: float  # on the stand-in's clock
    token_lifetime_s: float = 15 * 60
    acknowledged_at: float | None = None
    callback_type: int | None = None
    responses: list[Message] = field(default_factory=list)
    autocomplete_choices: list[dict[str, Any]] | None = None
    focused_option_type: int | None = None  # for autocomplete: the type the choices' values must have
    interaction_type: int = 2  # 2: a command, 4: an autocomplete (which callback types Discord takes)
    rejected: list[tuple[int, int]] = field(default_factory=list)  # (status, Discord code) of refused calls
    guild_id: int | None = None  # where it was made (None: a DM): whose channel permissions apply
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def expires_at(self) -> float:
        """When the interaction token stops working for edits and follow-ups (stand-in clock)."""
        return self.dispatched_at + self.token_lifetime_s

    def original(self) -> Message | None:
        """The original response as it stands after every edit."""
        current: Message | None = None
        for message in self.responses:
            if message.kind in ("callback", "edit"):
                current = message  # an edit record is already the merged state
        return current

    async def wait_acknowledged(self, timeout: float = 5) -> None:
        await self.wait_until(lambda: self.acknowledged_at is not None, timeout)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"/{self.command}: condition not met in {timeout}s; responses: {self.responses}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 30) -> Message:
        found: list[Message] = []

        def matched() -> bool:
            original = self.original()
            for message in [m for m in [original] if m] + [m for m in self.responses if m.kind == "followup"]:
                if predicate(message):
                    found.append(message)
                    return True
            return False

        await self.wait_until(matched, timeout)
        return found[0]

    async def wait_rejected(self, code: int, timeout: float = 10) -> None:
        """Wait until the stand-in has refused one of this interaction's calls with `code`."""
        await self.wait_until(lambda: any(c == code for _, c in self.rejected), timeout)

    def touch(self) -> None:
        self._changed.set()
