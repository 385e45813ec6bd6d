"""The Discord bot: one `GenreBot` that owns the runtime, the web app and the scheduler.

`setup_hook` loads one cog per feature, starts the OAuth callback app and the weekly scheduler
in this event loop, and syncs slash commands (instantly to DISCORD_DEV_GUILD_ID when set,
globally on `--sync` or when the command tree changed). `close` stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.errors",
    "bot.cogs.account",
    "bot.cogs.sorting",
    "bot.cogs.schedule",
    "bot.cogs.leaderboard",
)
TREE_HASH_STATE = "discord.synced_tree_hash"
# 15 commands per 30 seconds per member: far above what a person needs, far below a flood.
COMMAND_RATE = (15, 30.0)


class GenreTree(app_commands.CommandTree["GenreBot"]):
    """Adds a per-member rate limit and guild-membership bookkeeping before every command."""

    def __init__(self, client: GenreBot) -> None:
        super().__init__(client)
        self._cooldowns: dict[int, app_commands.Cooldown] = {}

    async def interaction_check(self, interaction: discord.Interaction[GenreBot], /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True
        cooldown = self._cooldowns.setdefault(interaction.user.id, app_commands.Cooldown(*COMMAND_RATE))
        retry_after = cooldown.update_rate_limit()
        if retry_after:
            await interaction.response.send_message(
                f"Easy there! Please wait {retry_after:.0f} seconds before the next command.",
                ephemeral=True,
            )
            return False
        runtime = interaction.client.runtime
        if interaction.guild_id is not None and runtime is not None:
            await runtime.db.guilds.add_member(interaction.guild_id, interaction.user.id)
        return True


class GenreBot(commands.Bot):
    def __init__(self, runtime: Runtime | None, settings: Settings, *, sync_commands: bool = False) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # not privileged; lets the bot see the servers it is in
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=GenreTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.runtime = runtime
        self.settings = settings
        self.sync_commands = sync_commands
        self.web: Any = None
        self.weekly: Any = None

    @property
    def services(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("the bot was built without a runtime (--list-commands)")
        return self.runtime

    async def load_features(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def setup_hook(self) -> None:
        from bot.scheduler import WeeklyRefreshScheduler
        from bot.web import WebServer, build_web_app

        await self.load_features()
        account_cog = self.get_cog("Account")
        on_result = getattr(account_cog, "on_link_result", None)
        self.web = WebServer(
            build_web_app(self.services.accounts, on_result), self.settings.web_host, self.settings.web_port
        )
        port = await self.web.start()
        log.info("OAuth callback listening on http://%s:%s/callback", self.settings.web_host, port)
        self.weekly = WeeklyRefreshScheduler(self)
        self.weekly.start()
        await self.sync_tree()

    async def sync_tree(self) -> None:
        guild_id = self.settings.discord_dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild_id)
            return
        digest = hashlib.sha256(command_tree_json_for(self.tree).encode()).hexdigest()
        previous = await self.services.db.app_state.get(TREE_HASH_STATE)
        if self.sync_commands or previous != digest:
            synced = await self.tree.sync()
            await self.services.db.app_state.set(TREE_HASH_STATE, digest)
            log.info("synced %d global commands", len(synced))

    async def close(self) -> None:
        if self.weekly is not None:
            self.weekly.shutdown()
        if self.web is not None:
            await self.web.stop()
        await super().close()


def command_tree_json_for(tree: app_commands.CommandTree[Any]) -> str:
    commands_ = sorted((cmd.to_dict(tree) for cmd in tree.get_commands()), key=lambda c: c["name"])
    return json.dumps(commands_, indent=2, sort_keys=True)


def command_tree_json() -> str:
    """The slash-command tree as Discord will receive it, built without a token or network."""
    from bot.settings import Settings

    async def build() -> str:
        bot = GenreBot(None, Settings())
        await bot.load_features()
        return command_tree_json_for(bot.tree)

    return asyncio.run(build())


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLogger().level))


def point_discord_at(settings: Settings) -> None:
    """Use another REST base or gateway (a proxy, or a local stand-in) when configured."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def start_bot(settings: Settings, *, sync_commands: bool = False, runtime: Runtime | None = None) -> GenreBot:
    """Build the runtime and log the bot in; returns once `bot.start()` is running in a task."""
    point_discord_at(settings)
    runtime = runtime or await Runtime.open(settings)
    return GenreBot(runtime, settings, sync_commands=sync_commands)


def run_bot(settings: Settings, *, sync_commands: bool = False) -> int:
    from cli_errors import UsageError

    configure_logging(settings.log_level)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""

    async def main() -> None:
        bot = await start_bot(settings, sync_commands=sync_commands)
        try:
            async with bot:
                await bot.start(token)
        finally:
            await bot.services.close()

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        raise UsageError("Discord rejected DISCORD_TOKEN (check the bot token)") from None
    except discord.PrivilegedIntentsRequired:
        raise UsageError("Discord refused the gateway intents") from None
    return 0
