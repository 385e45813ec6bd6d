"""The command tree's per-member state stays bounded in size and age however many members come by."""

from __future__ import annotations

import asyncio

import pytest
from cachetools import TTLCache
from discord import app_commands

from bot.discord_bot import (
    COMMAND_RATE,
    MAX_NOTED_MEMBERS,
    MAX_RATE_LIMITED_MEMBERS,
    NOTED_FOR_S,
    MemberRateLimits,
    MembershipNotes,
)

CROWD = 10_000
GUILD = 800_000_000_000_000_001


class FakeTimer:
    """A clock the test moves, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_member_over_the_budget_is_told_to_wait() -> None:
    """15 commands pass; the 16th within 30 seconds raises CommandOnCooldown."""
    limits = MemberRateLimits()
    for _ in range(COMMAND_RATE[0]):
        limits.hit(1)
    with pytest.raises(app_commands.CommandOnCooldown):
        limits.hit(1)
    limits.hit(2)  # another member is not affected


def test_ten_thousand_members_leave_a_bounded_rate_limit_table() -> None:
    """10,000 distinct members keep at most MAX_RATE_LIMITED_MEMBERS windows, none once they closed."""
    timer = FakeTimer()
    limits = MemberRateLimits(timer=timer)
    for member in range(CROWD):
        limits.hit(member)
    assert len(limits) <= MAX_RATE_LIMITED_MEMBERS < CROWD
    timer.now += COMMAND_RATE[1] + 1
    assert len(limits) == 0


async def test_ten_thousand_members_noted_leave_bounded_state() -> None:
    """Noting 10,000 members writes each once, then keeps at most MAX_NOTED_MEMBERS, none after an hour."""
    timer = FakeTimer()
    written: list[tuple[int, int]] = []

    async def note(guild_id: int, member_id: int) -> None:
        await asyncio.sleep(0)
        written.append((guild_id, member_id))

    notes = MembershipNotes(note, max_pairs=MAX_NOTED_MEMBERS // 4, timer=timer)
    for member in range(CROWD):
        notes.note(GUILD, member)
        notes.note(GUILD, member)  # a second command soon after writes nothing more
    await notes.drain()
    assert len(written) == CROWD
    assert len(notes) <= MAX_NOTED_MEMBERS // 4 < CROWD
    timer.now += NOTED_FOR_S + 1
    assert len(notes) == 0


async def test_a_failed_note_is_tried_again_at_the_next_command() -> None:
    """A note whose write failed is forgotten, so the member's next command notes them again."""
    attempts: list[int] = []

    async def note(guild_id: int, member_id: int) -> None:
        attempts.append(member_id)
        if len(attempts) == 1:
            raise RuntimeError("database closed")

    notes = MembershipNotes(note)
    notes.note(GUILD, 7)
    await notes.drain()
    notes.note(GUILD, 7)
    await notes.drain()
    assert attempts == [7, 7]


def test_pending_link_replies_are_bounded_in_size_and_age() -> None:
    """The account cog keeps /link replies for at most 15 minutes and MAX_PENDING_LINKS members."""
    from importlib import import_module

    account = import_module("bot.cogs.account")  # cogs are loaded by name, never imported by code
    cog = account.Account(bot=None)
    assert isinstance(cog.pending_links, TTLCache)
    for member in range(CROWD):
        cog.pending_links[member] = object()
    assert len(cog.pending_links) <= account.MAX_PENDING_LINKS < CROWD
    assert cog.pending_links.ttl == account.PENDING_LINK_S == 15 * 60
