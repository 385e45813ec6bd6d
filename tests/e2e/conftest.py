"""genrebot's real bot, end to end: discord.py against the Discord stand-in, spotipy against the
Spotify sandbox, a real SQLite file and the shipped model, all over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import discord
import pytest
import yarl
from cryptography.fernet import Fernet

from bot.app import GenreBot, point_discord_at
from bot.runtime import Runtime
from bot.settings import Settings
from sandbox.library import synthetic_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState
from tests.discord_standin import DiscordStandIn, InteractionRecord, Message

CLIENT_ID, CLIENT_SECRET = "e2e-client", "e2e-secret"
GUILD = 800_000_000_000_000_001


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class BotWorld:
    discord: DiscordStandIn
    spotify: SandboxState
    settings: Settings
    clock: Clock
    bot: GenreBot | None = None
    task: asyncio.Task[None] | None = None

    async def start_bot(self) -> GenreBot:
        runtime = await Runtime.open(self.settings, clock=self.clock)
        self.bot = GenreBot(runtime, self.settings)
        self.task = asyncio.create_task(self.bot.start(self.settings.discord_token.get_secret_value()))  # type: ignore[union-attr]
        await self.discord.wait_ready()
        for _ in range(200):
            if "sort" in self.discord.synced_commands and self.bot.weekly is not None:
                break
            await asyncio.sleep(0.05)
        self.bot.weekly.jitter_s = 0
        return self.bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
            await self.bot.services.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.discord.identified.clear()
        self.bot = self.task = None

    async def command(self, name: str, options: dict | None = None, *, user: int, sub: str | None = None,
                      guild: int | None = GUILD) -> InteractionRecord:
        record = await self.discord.invoke(name, options, user_id=user, subcommand=sub, guild_id=guild)
        await record.wait_acknowledged()
        return record

    async def final(self, record: InteractionRecord, timeout: float = 60) -> Message:
        """The reply once it has its final form (not a progress line or 'thinking')."""
        def finished(m: Message) -> bool:
            text = m.content or ""
            return bool(m.embeds) or (bool(text) and not text.startswith(("📥", "🧠", "✍️", "✅ Done")))
        return await record.wait_for(finished, timeout)

    async def link(self, user: int, spotify_user: str) -> Message:
        """/link, then what the member's browser does with the button: consent, redirect, callback."""
        record = await self.command("link", user=user)
        reply = record.original()
        assert reply is not None and reply.flags & 64, "the /link reply is ephemeral"
        url = reply.components[0]["components"][0]["url"]
        async with aiohttp.ClientSession() as session, session.get(url + f"&sandbox_user={spotify_user}") as page:
            assert page.status == 200, await page.text()
        return await record.wait_for(lambda m: "Linked as" in (m.content or ""), 10)


@pytest.fixture
async def world(tmp_path: Path, unused_tcp_port: int) -> AsyncIterator[BotWorld]:
    standin = DiscordStandIn(guild_ids=(GUILD,))
    await standin.start()
    redirect = f"http://127.0.0.1:{unused_tcp_port}/callback"
    spotify = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect})
    for index in range(30):
        spotify.add_user(f"member{index}", f"Member {index}", synthetic_library(300, seed=index + 10, prefix=f"m{index}"))
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
        web_port=unused_tcp_port,
        data_dir=tmp_path,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        sort_concurrency=8,
    )
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(settings)
    world = BotWorld(standin, spotify, settings, Clock())
    try:
        yield world
    finally:
        await world.stop_bot()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        assert isinstance(saved[1], yarl.URL)
        await sandbox.stop()
        await standin.stop()
    assert not standin.violations, f"Discord rules broken: {standin.violations}"
