"""genrebot's real bot, end to end: discord.py against the Discord stand-in, spotipy against the
Spotify sandbox, a real SQLite file and the shipped model, all over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast

import discord
import pytest
from cryptography.fernet import Fernet

from bot.discord_bot import GenreBot, point_discord_at
from bot.member_browser import browser_session, walk_link_flow
from bot.services.root import Services
from bot.settings import Settings
from sandbox.library import synthetic_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState
from tests.discord_standin import DiscordStandIn, InteractionRecord, Message, message_pings_everyone

CLIENT_ID, CLIENT_SECRET = "e2e-client", "e2e-secret"
WEEKLY_REFRESH_COG = "WeeklyRefresh"  # by name: cogs are loaded as extensions, never imported
GUILD = 800_000_000_000_000_001
MEMBERS, MEMBER_SONGS = 30, 300  # Spotify users member0..member29, each liking MEMBER_SONGS songs


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


class WeeklyRefreshTick(Protocol):
    """What the tests use of the weekly refresh cog: its tick, the jitter they switch off, and
    waiting for what the ticks started."""

    jitter_s: float

    async def run_due(self) -> int: ...

    async def settled(self) -> None: ...


@dataclass
class BotWorld:
    discord: DiscordStandIn
    spotify: SandboxState
    settings: Settings
    clock: Clock
    bot: GenreBot | None = None
    task: asyncio.Task[None] | None = None
    link_records: dict[int, InteractionRecord] = field(default_factory=dict)  # each member's last /link

    async def start_bot(self) -> GenreBot:
        """Open the services and log the bot in; returns once Discord says it is ready."""
        services = await Services.open(self.settings, clock=self.clock)
        self.bot = GenreBot(services)
        self.task = asyncio.create_task(self.bot.start(self.settings.discord_token.get_secret_value()))  # type: ignore[union-attr]
        await asyncio.wait([asyncio.ensure_future(self.bot.wait_until_ready()), self.task],
                           return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            await self.task  # start-up failed: raise its error here
        self.weekly_refresh.jitter_s = 0
        return self.bot

    @property
    def services(self) -> Services:
        assert self.bot is not None, "start the bot first"
        return self.bot.services

    @property
    def weekly_refresh(self) -> WeeklyRefreshTick:
        assert self.bot is not None, "start the bot first"
        cog = self.bot.get_cog(WEEKLY_REFRESH_COG)
        assert cog is not None
        return cast(WeeklyRefreshTick, cog)

    async def tick(self) -> int:
        """One tick of the weekly refresh, then what it started (refreshes, DMs) to their end;
        returns how many refreshes it started."""
        started = await self.weekly_refresh.run_due()
        await self.weekly_refresh.settled()
        return started

    async def stop_bot(self) -> None:
        """Log out and close the services, in that order (what `genrebot run` does on exit)."""
        if self.bot is not None:
            await self.bot.close()
            await self.bot.services.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.discord.identified.clear()
        self.bot = self.task = None

    def every_message(self) -> list[Message]:
        return [m for r in self.discord.interactions.values() for m in r.responses] + [
            m for messages in self.discord.dms.values() for m in messages
        ]

    async def command(self, name: str, options: dict | None = None, *, user: int, sub: str | None = None,
                      guild: int | None = GUILD) -> InteractionRecord:
        record = await self.discord.invoke(name, options, user_id=user, subcommand=sub, guild_id=guild)
        await record.wait_acknowledged()
        return record

    async def final(self, record: InteractionRecord, timeout: float = 60) -> Message:
        """The reply once it has its final form (not a progress line or 'thinking')."""
        def finished(m: Message) -> bool:
            text = m.content or ""
            return bool(m.embeds) or (bool(text) and not text.startswith(("⏳", "📥", "🧠", "✍️", "✅ Done")))
        return await record.wait_for(finished, timeout)

    async def link_url(self, user: int) -> str:
        """/link, and the URL of its button (genrebot's confirmation page)."""
        record = await self.command("link", user=user)
        reply = await record.wait_for(lambda m: bool(m.components), 10)
        assert reply.flags & 64, "the /link reply is ephemeral"
        self.link_records[user] = record
        return str(reply.components[0]["components"][0]["url"])

    async def link(self, user: int, spotify_user: str) -> Message:
        """/link, then what the member's browser does with the button: consent, redirect, callback;
        done once the reply says so and the DM naming the Spotify account arrived."""
        url = await self.link_url(user)
        async with browser_session() as session:
            page = await walk_link_flow(session, url, spotify_user=spotify_user)
        assert page.status == 200, page.text
        reply = await self.link_records[user].wait_for(lambda m: "Linked to the Spotify account" in (m.content or ""), 10)
        if user in self.discord.closed_dms:
            return reply
        # Opening DM channels is rate-limited (10 per 10 s): many members linking at once wait.
        await self.discord.wait_for_dm(user, lambda m: "now linked to the Spotify account" in (m.content or ""), 60)
        return reply


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "standin(**switches): DiscordStandIn switches for the world fixture")


@pytest.fixture
async def world(request: pytest.FixtureRequest, tmp_path: Path, callback_port: int) -> AsyncIterator[BotWorld]:
    marker = request.node.get_closest_marker("standin")
    standin = DiscordStandIn(**{"guild_ids": (GUILD,), **(marker.kwargs if marker else {})})
    await standin.start()
    redirect = f"http://127.0.0.1:{callback_port}/callback"
    spotify = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect})
    for index in range(MEMBERS):
        spotify.add_user(
            f"member{index}", f"Member {index}", synthetic_library(MEMBER_SONGS, seed=index + 10, prefix=f"m{index}")
        )
    sandbox = SandboxServer(spotify)
    base = await sandbox.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=standin.token,  # type: ignore[arg-type]
        discord_api_base=standin.api_base,
        discord_gateway_url=standin.gateway_url,
        discord_dev_guild_id=GUILD,
        spotify_client_id=CLIENT_ID,
        spotify_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri=redirect,
        spotify_api_base=f"{base}/v1",
        spotify_accounts_base=base,
        web_port=callback_port,
        data_dir=tmp_path,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        sort_concurrency=8,
        spotify_request_budget=100_000,  # pacing is tested in tests/bot/spotify/test_gate.py
    )
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(settings)
    world = BotWorld(standin, spotify, settings, Clock())
    try:
        yield world
    finally:
        await world.stop_bot()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        await sandbox.stop()
        await standin.stop()
    assert not standin.violations, f"Discord rules broken: {standin.violations}"
    assert not [m for m in world.every_message() if message_pings_everyone(m)], "a message could ping everyone"
