"""The command tree's per-member state stays bounded in size and age however many members come by;
the commands reach every Discord application the bot runs as."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import discord
import pytest
from cachetools import TTLCache
from cryptography.fernet import Fernet
from discord import app_commands

from bot.discord_bot import (
    COMMAND_RATE,
    MAX_NOTED_MEMBERS,
    MAX_RATE_LIMITED_MEMBERS,
    NOTED_FOR_S,
    GenreBot,
    MemberRateLimits,
    MembershipNotes,
    close_services,
    point_discord_at,
)
from bot.services.root import Services
from bot.settings import Settings
from tests.discord_standin import DiscordStandIn

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
    filled_at = time.monotonic()
    for member in range(CROWD):
        cog.pending_links[member] = object()
    assert len(cog.pending_links) <= account.MAX_PENDING_LINKS < CROWD
    kept = len(cog.pending_links)
    assert not cog.pending_links.expire(filled_at + 15 * 60 - 1) and len(cog.pending_links) == kept
    cog.pending_links.expire(time.monotonic() + 15 * 60)
    assert len(cog.pending_links) == 0
    assert cog.pending_links.ttl == account.PENDING_LINK_S == 15 * 60


async def start_and_stop(standin: DiscordStandIn, data_dir: Path, web_port: int) -> None:
    """`genrebot run` against `standin` until Discord says the bot is ready, then Ctrl-C: a global
    sync (no DISCORD_DEV_GUILD_ID), the database in `data_dir`."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=standin.token,  # type: ignore[arg-type]
        discord_api_base=standin.api_base, discord_gateway_url=standin.gateway_url,
        spotify_client_id="id", spotify_client_secret="secret",  # type: ignore[arg-type]
        spotify_redirect_uri=f"http://127.0.0.1:{web_port}/callback", web_port=web_port, data_dir=data_dir,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
    )
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(settings)
    services = await Services.open(settings)
    bot = GenreBot(services)
    task = asyncio.create_task(bot.start(standin.token))
    try:
        await asyncio.wait([asyncio.ensure_future(bot.wait_until_ready()), task], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            await task
    finally:
        await bot.close()
        await services.close()
        await asyncio.gather(task, return_exceptions=True)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_a_new_discord_application_on_the_same_database_gets_the_commands(
        tmp_path: Path, callback_port: int) -> None:
    """The operator tries genrebot with one Discord application, then makes the real one (a new
    DISCORD_TOKEN) and keeps the database: the new application is given the slash commands too."""
    first = DiscordStandIn(application_id=900_000_000_000_000_001)
    second = DiscordStandIn(application_id=900_000_000_000_000_002)
    await first.start()
    await second.start()
    try:
        await start_and_stop(first, tmp_path / "data", callback_port)
        assert "sort" in first.synced_commands
        await start_and_stop(second, tmp_path / "data", callback_port)
        assert "sort" in second.synced_commands, "the second application was never given the commands"
    finally:
        await first.stop()
        await second.stop()
    assert not first.violations and not second.violations


async def test_a_sigterm_while_the_services_close_after_a_failed_login_lets_the_close_finish(tmp_path: Path) -> None:
    """Discord refused the token, and the services are closing when the first SIGTERM comes (its handler
    cancels the running task): the close still finishes, so the database is closed cleanly (no -wal
    left, its lock released) and the cancel comes after."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        spotify_client_id="id", spotify_client_secret="secret",  # type: ignore[arg-type]
        data_dir=tmp_path / "data", token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
    )
    services = await Services.open(settings)
    await services.synced_commands.remember("tree-hash")  # a write: the database has a -wal until it closes
    database = settings.resolved_database_path
    assert Path(f"{database}-wal").stat().st_size > 0
    closing = asyncio.Event()

    async def run_after_a_failed_login() -> None:
        try:
            raise discord.LoginFailure("Improper token has been passed.")
        finally:
            closing.set()
            await close_services(services)

    running = asyncio.create_task(run_after_a_failed_login())
    await closing.wait()
    running.cancel()  # what SIGTERM's handler in run_bot does
    with pytest.raises(asyncio.CancelledError):
        await running
    assert database.is_file() and not Path(f"{database}-wal").exists()
    reopened = await Services.open(settings)  # the lock was released
    await reopened.close()
