"""The Discord bot: `GenreBot`, which loads one cog per feature and serves the OAuth callback,
and `GenreTree`, the slash-command tree every command passes through. `GenreBot` is an
`AutoShardedBot`: it opens as many gateway sessions as Discord recommends.

`GenreBot.setup_hook` loads the cogs (the weekly refresh cog starts its tick), starts the OAuth
callback web server in this event loop, and syncs slash commands (instantly to
DISCORD_DEV_GUILD_ID when set, globally on `--sync` or when the command tree or the application changed). `close`
stops what it started, in reverse order. The services are opened and closed by whoever builds
the bot (`run_bot`, the tests): the bot only uses them.

Before a command runs, `GenreTree` applies a per-member rate limit and, in the background, notes
that the member uses genrebot in this server (for its leaderboards): nothing before a command's
acknowledgement waits for the database, whose one write lock a big sort may hold. Per-member
state is bounded in size and age (`MemberRateLimits`, `MembershipNotes`), so a crowd of members
leaves no trace after a while. `GenreTree.on_error` is the one place where
failures become replies: expected failures (typed exceptions from the services and the Spotify
client) get their text from `presenters.error_message`, a reply Discord refused for a channel's
missing permission (403 50013) names the permission to ask for, and anything else gets an apology
with an error id, and the log gets the id, the member, the command and the traceback. Members never see
a traceback or a token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import yarl
from cachetools import TTLCache
from discord import app_commands
from discord.ext import commands
from discord.gateway import KeepAliveHandler

from bot import presenters
from bot.replies import InteractionReply, send_dm
from bot.services.errors import failed_run
from bot.services.root import Services
from bot.settings import Settings
from bot.web import CannotListen, LinkOutcome, WebServer, build_web_app
from cli_errors import CommandFailed, UsageError
from cli_output import Terminated

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.account",
    "bot.cogs.sorting",
    "bot.cogs.weekly_refresh",
    "bot.cogs.leaderboard",
)


# 15 commands per 30 seconds per member: far above what a person needs, far below a flood.
COMMAND_RATE = (15, 30.0)
# Members whose rate-limit window is open at once; past that the least recently seen is forgotten
# (it only forgets a budget, never data). Windows close after COMMAND_RATE's 30 s anyway.
MAX_RATE_LIMITED_MEMBERS = 4096
# (server, member) pairs noted for the leaderboards recently enough not to note them again.
MAX_NOTED_MEMBERS, NOTED_FOR_S = 16384, 3600.0
NOTE_DRAIN_TIMEOUT_S = 5.0


class MemberRateLimits:
    """Each member's command budget, kept only while its window is open and for at most
    `max_members` members: state bounded in size and age however many members come by."""

    def __init__(
        self,
        rate: tuple[int, float] = COMMAND_RATE,
        *,
        max_members: int = MAX_RATE_LIMITED_MEMBERS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        # An entry lives as long as the window it holds: the window starts when the entry is made.
        self._windows: TTLCache[int, app_commands.Cooldown] = TTLCache(max_members, rate[1], timer=timer)

    def hit(self, member_id: int) -> None:
        """Count one command; raises CommandOnCooldown when the member's budget is spent."""
        cooldown = self._windows.get(member_id)
        if cooldown is None:
            cooldown = self._windows[member_id] = app_commands.Cooldown(*self.rate)
        retry_after = cooldown.update_rate_limit()
        if retry_after:
            raise app_commands.CommandOnCooldown(cooldown, retry_after)  # answered by on_error

    def __len__(self) -> int:
        self._windows.expire()
        return len(self._windows)


class MembershipNotes:
    """Notes in the background that a member uses genrebot in a server (for its leaderboards).

    Never on a command's acknowledgement path: the write may wait behind a long transaction.
    A pair noted in the last hour is not noted again; both the set of recent pairs and the
    writes in flight are bounded.
    """

    def __init__(
        self,
        note: Callable[[int, int], Awaitable[None]],
        *,
        max_pairs: int = MAX_NOTED_MEMBERS,
        remember_s: float = NOTED_FOR_S,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._note = note
        self._recent: TTLCache[tuple[int, int], bool] = TTLCache(max_pairs, remember_s, timer=timer)
        self._writing: set[asyncio.Task[None]] = set()

    def note(self, guild_id: int, member_id: int) -> None:
        key = (guild_id, member_id)
        if key in self._recent:
            return
        self._recent[key] = True
        task = asyncio.create_task(self._write(key))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _write(self, key: tuple[int, int]) -> None:
        try:
            await self._note(*key)
        except Exception:
            self._recent.pop(key, None)  # try again at the member's next command
            log.warning("could not note member %s in server %s", key[1], key[0], exc_info=True)

    def forget_guild(self, guild_id: int) -> None:
        """genrebot left the server (its stored memberships are forgotten): a re-invite within the
        hour must note its members again at their next command."""
        for key in [key for key in self._recent if key[0] == guild_id]:
            self._recent.pop(key, None)

    async def drain(self, timeout: float = NOTE_DRAIN_TIMEOUT_S) -> None:
        """Let the notes in flight land (before the database closes); cancel what cannot."""
        if not self._writing:
            return
        _, pending = await asyncio.wait(set(self._writing), timeout=timeout)
        for task in pending:
            task.cancel()

    def __len__(self) -> int:
        self._recent.expire()
        return len(self._recent)


class GenreTree(app_commands.CommandTree["GenreBot"]):
    def __init__(self, client: GenreBot) -> None:
        super().__init__(client)
        self.rate_limits = MemberRateLimits()
        self.membership_notes = MembershipNotes(self._note_member)

    async def _note_member(self, guild_id: int, member_id: int) -> None:
        await self.client.services.stats.note_member(guild_id, member_id)

    async def interaction_check(self, interaction: discord.Interaction[GenreBot], /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True
        self.rate_limits.hit(interaction.user.id)
        if interaction.guild_id is not None:
            self.membership_notes.note(interaction.guild_id, interaction.user.id)
        return True

    async def on_error(self, interaction: discord.Interaction[GenreBot], error: app_commands.AppCommandError, /) -> None:
        failure = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if interaction.type is discord.InteractionType.autocomplete:
            await _no_choices(interaction, failure)
            return
        if isinstance(failure, discord.Forbidden) and failure.code == presenters.MISSING_PERMISSIONS:
            # a channel overwrite took Embed Links or Attach Files from genrebot: text still goes
            log.info("/%s: missing permissions in channel %s", interaction.command and interaction.command.name,
                     interaction.channel_id)
            message: str | None = presenters.missing_permissions_message(
                presenters.missing_reply_permissions(interaction.app_permissions))
        else:
            message = presenters.error_message(failure)
        if message is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            error_id = await self.client.services.sorting.logged_bug(
                failure, interaction.user.id, f"command /{command}", failed_run(failure))
            message = presenters.unexpected_error_message(error_id)
        await _reply(interaction, message)


async def _no_choices(interaction: discord.Interaction[GenreBot], failure: BaseException) -> None:
    """An autocomplete that failed before its callback ran (discord.py handles the callback's own
    errors): typically a command a member's Discord client still offers after genrebot dropped it.
    Discord takes only choices in answer to an autocomplete (a message is 400 50035 'In type: Value
    must be one of {8}'), so the member gets an empty list rather than 'Loading options failed'."""
    name = interaction.data.get("name", "?") if interaction.data else "?"
    if isinstance(failure, app_commands.CommandNotFound):
        log.info("autocomplete for /%s, which genrebot does not have (a stale Discord client?)", name)
    else:
        log.error("autocomplete for /%s failed: member %s", name, interaction.user.id, exc_info=failure)
    if interaction.response.is_done():
        return
    try:
        await interaction.response.autocomplete([])
    except discord.HTTPException:
        log.warning("could not answer autocomplete interaction %s", interaction.id)


async def _reply(interaction: discord.Interaction[GenreBot], text: str) -> None:
    """Answer whether or not the interaction was already acknowledged; by DM once its token is gone."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        if await InteractionReply(interaction).edit(content=text, embed=None, attachments=[], view=None):
            return
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)
        return
    await send_dm(interaction.client, interaction.user.id, content=text)


class GenreBot(commands.AutoShardedBot):
    """Sharded as Discord asks (GET /gateway/bot): one gateway session holds at most 2,500
    servers, and a bot in more is refused an unsharded one (close code 4011)."""

    def __init__(self, services: Services, *, sync_commands: bool = False) -> None:
        super().__init__(**_client_options())
        self.services = services
        self.settings = services.settings
        self.sync_commands = sync_commands
        self.web_server: WebServer | None = None

    async def setup_hook(self) -> None:
        await load_features(self)
        self.web_server = WebServer(self.settings.web_host, self.settings.web_port)
        port = await self.web_server.start(build_web_app(self.services.linking, self.announce_link_result))
        log.info("OAuth callback listening on http://%s:%s/callback", self.settings.web_host, port)
        await self.sync_tree()

    @property
    def membership_notes(self) -> MembershipNotes:
        assert isinstance(self.tree, GenreTree)
        return self.tree.membership_notes

    def announce_link_result(self, outcome: LinkOutcome) -> None:
        """Tell the cogs (`on_link_result` listeners) that Spotify redirected a member back."""
        self.dispatch("link_result", outcome)

    async def sync_tree(self) -> None:
        guild_id = self.settings.discord_dev_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to dev guild %s", len(synced), guild_id)
            return
        # Per application: another DISCORD_TOKEN on the same database (a test app, then the real
        # one) is a different application that has none of the commands yet.
        tree = f"{self.application_id}\n{command_tree_json_for(self.tree)}"
        tree_hash = hashlib.sha256(tree.encode()).hexdigest()
        if self.sync_commands or await self.services.synced_commands.differs_from(tree_hash):
            synced = await self.tree.sync()
            await self.services.synced_commands.remember(tree_hash)
            log.info("synced %d global commands", len(synced))

    async def close(self) -> None:
        heartbeats = self.heartbeat_threads()  # before closing: the gateway forgets them as it closes
        if self.web_server is not None:
            await self.web_server.stop()
        # Running sorts stop (each recording its run) while Discord is still open, so a /sort's reply
        # can say the bot stopped instead of showing its last progress line for good.
        await self.services.sorting.close()
        await super().close()  # unloads the cogs (the weekly refresh tick stops with its cog)
        if isinstance(self.tree, GenreTree):
            await self.tree.membership_notes.drain()
        await threads_ended(heartbeats, HEARTBEAT_STOP_TIMEOUT_S)

    def heartbeat_threads(self) -> list[threading.Thread]:
        """The threads discord.py beats this bot's gateway heartbeats on, one per shard. Closing
        only tells them to stop, and each holds its gateway session, and so the whole bot, until
        it has ended."""
        return [thread for thread in threading.enumerate() if isinstance(thread, KeepAliveHandler)
                and getattr(thread.ws, "_connection", None) is self._connection]


HEARTBEAT_STOP_TIMEOUT_S = 5.0  # a heartbeat thread told to stop ends at once unless mid-send


async def threads_ended(threads: list[threading.Thread], timeout_s: float) -> None:
    """Return once these threads have ended (a thread not ended by the deadline is logged). The
    joins run in the executor, since a join would block the event loop; the work item holds the
    threads by weak reference only, so nothing they hold outlives them there."""
    alive = await asyncio.to_thread(_join_each, [weakref.ref(thread) for thread in threads], timeout_s)
    if alive:
        log.warning("%d thread(s) still running %.0f s after the bot closed: %s", len(alive), timeout_s,
                    ", ".join(alive))


async def close_services(services: Services) -> None:
    """Close the services to the end even if the running task is cancelled meanwhile (a first SIGTERM
    while they close after Ctrl-C or a failed login): cut short, the database would stay open, its
    -wal and lock left behind. The cancel is raised once they are closed."""
    closing = asyncio.ensure_future(services.close())
    cancelled = False
    while True:
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            if closing.done():
                raise  # the close itself was cancelled, not this task
            cancelled = True
        else:
            break
    if cancelled:
        raise asyncio.CancelledError


def _join_each(threads: list[weakref.ref[threading.Thread]], timeout_s: float) -> list[str]:
    """Join each thread still there until one deadline; the names of those still running."""
    deadline = time.monotonic() + timeout_s
    alive = []
    for ref in threads:
        thread = ref()
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                alive.append(thread.name)
    return alive


def _client_options() -> dict[str, Any]:
    # genrebot has no voice: say nothing at start-up about voice libraries it does not need.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    intents = discord.Intents.none()
    intents.guilds = True  # not privileged; lets the bot see the servers it is in
    return {
        "command_prefix": commands.when_mentioned,
        "intents": intents,
        "tree_cls": GenreTree,
        "allowed_mentions": discord.AllowedMentions.none(),
        "help_command": None,
    }


async def load_features(bot: commands.Bot | commands.AutoShardedBot) -> None:
    for extension in EXTENSIONS:
        await bot.load_extension(extension)


def command_tree_json_for(tree: app_commands.CommandTree[Any]) -> str:
    commands_ = sorted((cmd.to_dict(tree) for cmd in tree.get_commands()), key=lambda c: c["name"])
    return json.dumps(commands_, indent=2, sort_keys=True)


def command_tree_json() -> str:
    """The slash-command tree as Discord will receive it, built without services, token or network."""

    async def build() -> str:
        bot = commands.Bot(**_client_options())
        try:
            await load_features(bot)
            return command_tree_json_for(bot.tree)
        finally:
            await bot.close()

    return asyncio.run(build())


def point_discord_at(settings: Settings) -> None:
    """Use another REST base or gateway (a proxy, or a local stand-in) when configured."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def run_bot(settings: Settings, *, sync_commands: bool = False) -> int:
    """Open the services, run the bot until it stops, then close the services."""
    point_discord_at(settings)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""

    terminated = False

    async def main() -> None:
        loop, running = asyncio.get_running_loop(), asyncio.current_task()
        assert running is not None

        def stop_on_sigterm() -> None:
            # SIGTERM (systemctl stop, docker stop) stops the bot as Ctrl-C does: the start-up or the
            # running bot is cancelled and what was opened closes in reverse order; one that comes
            # while the services already close waits for that close (`close_services`). A second
            # SIGTERM ends the process at once (with the handler gone, the default action is back).
            nonlocal terminated
            terminated = True
            loop.remove_signal_handler(signal.SIGTERM)
            running.cancel()

        loop.add_signal_handler(signal.SIGTERM, stop_on_sigterm)
        services = await Services.open(settings)
        try:
            async with GenreBot(services, sync_commands=sync_commands) as bot:
                await bot.start(token)
        finally:
            await close_services(services)

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:  # closed cleanly; now end by the signal, as whoever sent it expects
            raise Terminated() from None
        raise
    except discord.LoginFailure:
        raise UsageError("Discord rejected DISCORD_TOKEN (check the bot token)") from None
    except discord.PrivilegedIntentsRequired:
        raise UsageError("Discord refused the gateway intents") from None
    except CannotListen as exc:
        raise UsageError(cannot_listen(exc)) from None
    except (aiohttp.ClientConnectionError, discord.GatewayNotFound, TimeoutError) as exc:
        raise CommandFailed(discord_unreachable(exc)) from None
    return 0


def cannot_listen(exc: CannotListen) -> str:
    """One line for a web app that could not take WEB_HOST:WEB_PORT, saying which setting to change."""
    where = f"cannot serve the link pages on {exc.host}:{exc.port}"
    if exc.in_use:
        return (f"{where}: the port is in use (by another genrebot, or another program); stop it, or set WEB_PORT "
                "to a free port and SPOTIFY_REDIRECT_URI (or the reverse proxy) to match")
    if exc.not_here:
        return f"{where}: WEB_HOST is not an address of this machine ({exc.reason}); 127.0.0.1 behind a proxy is usual"
    return f"{where} ({exc.reason}); check WEB_HOST and WEB_PORT"


def discord_unreachable(exc: BaseException) -> str:
    """One line for a start-up that could not reach Discord; a service manager restarts the bot."""
    reason = str(exc) or type(exc).__name__
    return (f"cannot reach Discord at {discord.http.Route.BASE} ({reason}); check the network "
            "or DISCORD_API_BASE, then start again (under systemd, Restart=on-failure retries)")
