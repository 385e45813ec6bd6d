"""/sort, /genres and /stats: sorting a member's Liked Songs (or one of their playlists) and
showing their genre mix."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.choices import genre_choices, source_choices, typed_level
from bot.replies import InteractionReply, send_dm
from bot.services import charts
from bot.services.genre_names import parse_level, resolve_genres, split_genres
from bot.services.playlist_plan import SortOptions
from bot.services.sorting import SortProgress, SortReport
from music import SortSource

if TYPE_CHECKING:
    from bot.discord_bot import GenreBot

log = logging.getLogger(__name__)

PROGRESS_EDIT_INTERVAL_S = 1.5  # Discord rate-limits edits of one message; a few a second is plenty
# discord.py sleeps whatever retry_after a 429 on the reply asks for, five times over: an edit
# normally lands at once, so one not done in these bounds goes by DM instead of holding the result.
PROGRESS_SETTLE_S = 5.0  # a progress edit in flight when the sort ends
RESULT_EDIT_TIMEOUT_S = 30.0  # the result's own edit
STOPPED_EDIT_TIMEOUT_S = 5.0  # saying the bot stopped: within the time closing gives a sort (STOP_TIMEOUT_S)

LEVEL_CHOICES = [
    app_commands.Choice(name="family: a playlist per family (Rock, Jazz & Blues…), the default", value="family"),
    app_commands.Choice(name="genre: a playlist per genre (Alt-Rock, K-Pop…)", value="genre"),
    app_commands.Choice(name="subgenre: the same as genre (its older name)", value="subgenre"),
]
VIEW_CHOICES = LEVEL_CHOICES[:2]


class Sorting(commands.Cog):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        self.progress_settle_s = PROGRESS_SETTLE_S
        self.result_edit_timeout_s = RESULT_EDIT_TIMEOUT_S

    @app_commands.command(name="sort", description="Sort your Liked Songs, or one of your playlists, into genre playlists")
    @app_commands.describe(
        source="What to sort: Liked Songs (the default) or one of your playlists",
        genres="Only these families or genres, comma-separated, e.g. jazz, k-pop (default: all)",
        level="A playlist per family (default) or per genre",
        min_confidence="Leave songs the model is less sure about unsorted (0-1, default 0)",
        min_size="Families or genres with fewer songs stay unsorted instead of a tiny playlist (default 5)",
        multi="Also add a song to its second family (or genre) when that is likely too",
        dry_run="Show what would happen without touching your Spotify",
    )
    @app_commands.choices(level=LEVEL_CHOICES)
    async def sort(
        self,
        interaction: discord.Interaction,
        source: str | None = None,
        genres: str | None = None,
        level: str = "family",
        min_confidence: app_commands.Range[float, 0.0, 1.0] = 0.0,
        min_size: app_commands.Range[int, 1, 1000] = 5,
        multi: bool = False,
        dry_run: bool = False,
    ) -> None:
        services = self.bot.services
        services.sorting.raise_if_running(interaction.user.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen_source = await services.sources.resolve(interaction.user.id, source)
        taxonomy = services.classifier.taxonomy
        chosen_level = parse_level(level)
        chosen = resolve_genres(split_genres(genres, taxonomy, chosen_level), taxonomy, chosen_level) if genres else None
        options = SortOptions(
            genres=chosen,
            level=chosen_level,
            min_confidence=float(min_confidence),
            min_playlist_size=int(min_size),
            multi=multi,
            dry_run=dry_run,
        )
        progress = _ProgressEditor(InteractionReply(interaction), chosen_source)
        try:
            report = await services.sorting.sort(
                interaction.user.id, options, source=chosen_source, progress=progress.update
            )
        except asyncio.CancelledError:
            if services.sorting.stopping:  # the bot is stopping: the reply must not go on saying it reads
                await progress.finish(0)
                try:
                    await asyncio.wait_for(progress.reply.edit(content=presenters.SORT_STOPPED_TEXT), STOPPED_EDIT_TIMEOUT_S)
                except (discord.HTTPException, TimeoutError):
                    log.info("the /sort reply of member %s could not say the bot stopped", interaction.user.id)
            raise
        await progress.finish(self.progress_settle_s)
        await self._deliver(interaction, progress.reply, report)

    async def _deliver(self, interaction: discord.Interaction, reply: InteractionReply, report: SortReport) -> None:
        """The result in the /sort reply; by DM when the reply's 15 minutes are (nearly) over, or
        when Discord refused the reply for good (a channel that denies genrebot Attach Files or
        Embed Links, or Discord failing past discord.py's own retries, or asking it to wait longer
        than RESULT_EDIT_TIMEOUT_S): the playlists are written, and a member told 'something went
        wrong' would sort again for nothing."""
        embed = presenters.sort_embed(report)
        refused = False
        try:
            if await asyncio.wait_for(
                reply.edit(content=None, embed=embed, attachments=presenters.chart_files(report.chart_png)),
                self.result_edit_timeout_s,
            ):
                return
        except discord.HTTPException as error:
            log.warning("the /sort reply of run %s refused the result (%s %s); sending it by DM",
                        report.run_id, error.status, error.code)
            refused = True
        except TimeoutError:
            log.warning("the /sort reply of run %s did not take the result in %.0f s; sending it by DM",
                        report.run_id, self.result_edit_timeout_s)
            refused = True
        member = interaction.user.id
        known_guilds = await self.bot.services.stats.member_guilds(member)
        status = await send_dm(
            self.bot, member, known_guild_ids=[*known_guilds, *filter(None, [interaction.guild_id])],
            content=presenters.NOT_SHOWN_NOTE if refused else presenters.LATE_RESULT_NOTE,
            embed=embed, files=presenters.chart_files(report.chart_png),
        )
        await self.bot.services.weekly_refresh.record_summary_delivery(report.run_id, status)
        if refused:
            missing = presenters.missing_reply_permissions(interaction.app_permissions)
            try:  # text alone, which every channel takes: where the result went
                await asyncio.wait_for(reply.edit(content=presenters.result_elsewhere_text(report, status, missing),
                                                  embed=None, attachments=[]), self.result_edit_timeout_s)
            except (discord.HTTPException, TimeoutError):
                log.info("the /sort reply of run %s could not say where its result went", report.run_id)

    @sort.autocomplete("source")
    async def source_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await source_choices(self.bot.services.sources, interaction.user.id, current)

    @sort.autocomplete("genres")
    async def genres_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return genre_choices(self.bot.services.classifier.taxonomy, current, level=typed_level(interaction),
                             several=True)

    @app_commands.command(name="genres", description="The families and genres the loaded model knows")
    @app_commands.describe(family="Show this family's genres and the other names they answer to")
    async def genres(self, interaction: discord.Interaction, family: str | None = None) -> None:
        classifier = self.bot.services.classifier
        if family is None:
            embed = presenters.genres_embed(classifier.taxonomy, classifier.version)
        else:
            embed = presenters.family_embed(classifier.taxonomy, self.bot.services.stats.pick(family).family,
                                            classifier.version)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @genres.autocomplete("family")
    async def family_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return genre_choices(self.bot.services.classifier.taxonomy, current, families_only=True)

    @app_commands.command(name="stats", description="Your own genre breakdown, by family or by genre")
    @app_commands.describe(level="By family (default) or by genre")
    @app_commands.choices(level=VIEW_CHOICES)
    async def stats(self, interaction: discord.Interaction, level: str = "family") -> None:
        view = parse_level(level)
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = self.bot.services.stats
        mix = stats.labelled(await stats.member_mix(interaction.user.id, view), view)
        embed = presenters.mix_embed("Your genre mix" if view == "family" else "Your genres", mix)
        if not mix or not interaction.app_permissions.attach_files:
            embed.set_image(url=None)  # no chart, or a channel that takes no files from genrebot
            await interaction.edit_original_response(embed=embed)
            return
        png = await asyncio.to_thread(charts.genre_mix_png, mix, f"Your {sum(mix.values()):,} liked songs")
        await interaction.edit_original_response(embed=embed, attachments=[presenters.chart_file(png)])


class _ProgressEditor:
    """Edits the deferred reply with progress, at most every PROGRESS_EDIT_INTERVAL_S, and never
    once the reply's token is gone (the result then goes by DM)."""

    def __init__(self, reply: InteractionReply, source: SortSource) -> None:
        self.reply = reply
        self.source = source
        self.last_edit = 0.0
        self.done = False
        self.editing: asyncio.Task[object] | None = None  # the progress edit in flight: one at a time

    async def update(self, progress: SortProgress) -> None:
        now = time.monotonic()
        if self.done or self.editing is not None or now - self.last_edit < PROGRESS_EDIT_INTERVAL_S:
            return
        self.last_edit = now
        self.editing = asyncio.current_task()
        try:
            await self.reply.edit(content=presenters.progress_text(progress, self.source))
        except discord.HTTPException:
            pass  # progress is cosmetic
        finally:
            self.editing = None

    async def finish(self, settle_s: float) -> None:
        """No progress edit after this; one in flight gets `settle_s` to land before the result,
        then is dropped (a 429 asking for a long wait would otherwise hold the result)."""
        self.done = True
        editing = self.editing
        if editing is not None:
            await asyncio.wait({editing}, timeout=settle_s)
            editing.cancel()  # nothing when it landed
            await asyncio.wait({editing})  # until it has let go of the reply


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Sorting(bot))
