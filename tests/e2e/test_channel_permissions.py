"""Channels that deny genrebot a permission interaction replies need (Attach Files, Embed Links),
and Discord refusing the /sort reply for good: the member still learns the outcome, and the
sort's work is neither lost nor repeated."""

from __future__ import annotations

import pytest

from tests.discord_standin.guilds import ATTACH_FILES, EMBED_LINKS
from tests.e2e.conftest import GUILD, MEMBER_SONGS, BotWorld
from tests.e2e.test_results_by_dm import dm_arrived, dm_outcome_recorded

MEMBER = 100_000_000_000_007_001
SORTED_ALL = f"Sorted {MEMBER_SONGS} liked songs"


async def test_a_sort_in_a_channel_without_attach_files_sends_the_result_by_dm_and_says_so(world: BotWorld) -> None:
    """The reply cannot carry the chart there: the result goes by DM, and the reply says where it went."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    world.discord.deny_in_channel(GUILD, ATTACH_FILES)
    record = await world.command("sort", user=MEMBER)
    dm = await dm_arrived(world, MEMBER)
    assert dm.embeds[0]["title"] == SORTED_ALL and any(name == "genre-mix.png" for name, _ in dm.attachments)
    reply = await record.wait_for(lambda m: "by DM" in (m.content or ""), 10)
    assert SORTED_ALL in (reply.content or "") and "Attach Files" in (reply.content or "")
    assert "something went wrong" not in (reply.content or "")
    run = await dm_outcome_recorded(world, MEMBER)
    assert run.dm_status == "sent" and len(await world.services.sorting.recent_runs(MEMBER)) == 1


async def test_a_sort_whose_reply_discord_keeps_refusing_still_reaches_the_member(world: BotWorld) -> None:
    """Every edit of the reply is answered 429 until discord.py gives up: the result arrives by DM,
    the sort ran once, and /status lists it."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    world.discord.throttle(100_000, retry_after=0.001, method="PATCH", path_prefix="/webhooks/")
    await world.command("sort", user=MEMBER)
    dm = await dm_arrived(world, MEMBER)
    assert dm.embeds[0]["title"] == SORTED_ALL
    run = await dm_outcome_recorded(world, MEMBER)
    assert run.dm_status == "sent"
    world.discord.limiter.throttles.clear()  # Discord recovers
    status = await world.final(await world.command("status", user=MEMBER))
    runs = status.embeds[0]["fields"][1]["value"].splitlines()
    assert len(runs) == 1 and "**succeeded**" in runs[0] and "result sent by DM" in runs[0], runs


async def test_leaderboard_in_a_channel_without_attach_files_shows_the_board_without_its_chart(
    world: BotWorld,
) -> None:
    """The board is text the channel allows; only the chart is left out."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    await world.final(await world.command("sort", user=MEMBER))
    world.discord.deny_in_channel(GUILD, ATTACH_FILES)
    reply = await world.final(await world.command("leaderboard", user=MEMBER))
    assert reply.embeds and reply.attachments == [] and "image" not in reply.embeds[0]


async def test_a_command_in_a_channel_without_embed_links_says_which_permission_is_missing(world: BotWorld) -> None:
    """/status there cannot show its embed: the member is told what to ask an admin for, not 'something went wrong'."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    world.discord.deny_in_channel(GUILD, EMBED_LINKS)
    reply = await world.final(await world.command("status", user=MEMBER))
    assert "Embed Links" in (reply.content or "") and "something went wrong" not in (reply.content or "")


async def test_stats_in_a_channel_without_attach_files_shows_the_mix_without_its_chart(world: BotWorld) -> None:
    """/stats there answers with the member's mix; only the chart is left out."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    await world.final(await world.command("sort", user=MEMBER))
    world.discord.deny_in_channel(GUILD, ATTACH_FILES)
    reply = await world.final(await world.command("stats", user=MEMBER))
    assert reply.embeds and reply.attachments == [] and "image" not in reply.embeds[0]


async def test_a_sort_whose_reply_discord_asks_to_wait_an_hour_for_sends_the_result_by_dm(world: BotWorld) -> None:
    """A 429 on the reply asking for an hour's wait (discord.py's webhook adapter sleeps any
    retry_after it is given, five times over) does not hold the result: it goes by DM."""
    bot = await world.start_bot()
    sorting = bot.get_cog("Sorting")  # by name: cogs are loaded as extensions, never imported
    sorting.progress_settle_s = sorting.result_edit_timeout_s = 1.0  # type: ignore[union-attr]
    await world.link(MEMBER, "member0")
    world.discord.throttle(100_000, retry_after=3600, scope="shared", method="PATCH", path_prefix="/webhooks/")
    await world.command("sort", user=MEMBER)
    dm = await dm_arrived(world, MEMBER)
    assert dm.embeds[0]["title"] == SORTED_ALL
    world.discord.limiter.throttles.clear()


@pytest.mark.parametrize("where", ["thread", "forum post", "voice"])
async def test_sort_and_leaderboard_answer_in_a_thread_a_forum_post_and_a_voice_channels_chat(
    world: BotWorld, where: str,
) -> None:
    """Commands run there are answered as in a text channel: the result with its chart, and the board."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    world.discord.move_commands_to(GUILD, where)
    result = await world.final(await world.command("sort", user=MEMBER))
    assert result.embeds[0]["title"] == SORTED_ALL and result.attachments
    board = await world.final(await world.command("leaderboard", user=MEMBER))
    assert board.embeds and board.attachments
