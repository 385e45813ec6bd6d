"""A member's journey through the real discord.py client, one step per test: link, sort, re-sort,
weekly DM, leaderboard, stats, status, privacy, unlink, and the genre list with its autocomplete.
Genre names come from the loaded model's taxonomy, never from the test."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from sandbox.library import synthetic_library
from sandbox.records import local_file
from tests.discord_standin import Message
from tests.e2e.conftest import GUILD, MEMBER_SONGS, BotWorld

ALICE = 100_000_000_000_000_111
BOB = 100_000_000_000_000_222
NEW_SONGS = 14


async def linked_and_sorted(
    world: BotWorld, member: int = ALICE, spotify_user: str = "member0", options: dict[str, object] | None = None
) -> Message:
    await world.start_bot()
    await world.link(member, spotify_user)
    return await world.final(await world.command("sort", options, user=member))


async def test_link_confirms_in_the_link_reply(world: BotWorld) -> None:
    """After Spotify's redirect, the ephemeral /link reply names the linked Spotify account."""
    await world.start_bot()
    linked = await world.link(ALICE, "member0")
    assert "Linked to the Spotify account **Member 0**" in (linked.content or "")


async def test_sort_defers_shows_progress_and_answers_with_playlist_links_and_a_chart(world: BotWorld) -> None:
    """/sort of 3,000 songs defers at once, edits in reading progress, then shows links and a chart."""
    big = synthetic_library(3000 - MEMBER_SONGS, seed=4, prefix="big")
    world.spotify.like("member0", big)
    await world.start_bot()
    await world.link(ALICE, "member0")
    sort = await world.command("sort", user=ALICE)
    assert sort.callback_type == 5, "/sort defers at once"
    reply = await world.final(sort)
    assert reply.embeds[0]["title"] == "Sorted 3,000 liked songs"
    assert "genrebot](https://open.spotify.com/playlist/" in reply.embeds[0]["description"]
    assert any(name == "genre-mix.png" and data.startswith(b"\x89PNG") for name, data in reply.attachments)
    assert [m for m in sort.responses if (m.content or "").startswith("📥")], "reading progress was shown"


async def test_a_sort_of_no_songs_says_there_were_none_and_makes_nothing(world: BotWorld) -> None:
    """A member whose Liked Songs hold only a local file: the sort succeeds, makes no playlist, and the
    reply says there was nothing to sort (not that no genre had enough songs) and why (the local file),
    with no empty 'Genre mix of 0 liked songs' chart."""
    await world.start_bot()
    world.spotify.add_user("newcomer", "Newcomer", [])
    world.spotify.like_local_file("newcomer", local_file("Me", "Demos", "First take", 120))
    await world.link(ALICE, "newcomer")
    reply = await world.final(await world.command("sort", user=ALICE))
    assert world.spotify.playlists_of("newcomer") == []
    embed = reply.embeds[0]
    assert embed["description"] == "You have no liked songs I can sort yet.", embed["description"]
    assert any("1 local file" in f["value"] for f in embed["fields"])
    assert reply.attachments == [] and "image" not in embed, "no chart of 0 songs"


async def test_a_weekly_refresh_of_no_songs_dms_its_summary_without_a_chart(world: BotWorld) -> None:
    """A member with no liked songs and a weekly refresh: the summary DM comes, with no empty chart."""
    await world.start_bot()
    world.spotify.add_user("newcomer", "Newcomer", [])
    await world.link(ALICE, "newcomer")
    await world.final(await world.command(
        "schedule", {"weekday": "friday", "hour": 18, "timezone": "Europe/Berlin"}, user=ALICE, sub="set"))
    schedule = await world.services.weekly_refresh.schedule(ALICE)
    assert schedule is not None and schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(seconds=5)
    await world.tick()
    summaries = [m for m in world.discord.dms[ALICE] if m.embeds]
    assert len(summaries) == 1, world.discord.dms[ALICE]
    assert summaries[0].attachments == [] and "image" not in summaries[0].embeds[0], "no chart of 0 songs"


async def test_resort_updates_the_same_playlists(world: BotWorld) -> None:
    """A second /sort names the same playlists and marks none of them new."""
    await linked_and_sorted(world)
    first_ids = {p.id for p in world.spotify.playlists_of("member0")}
    again = await world.final(await world.command("sort", user=ALICE))
    assert {p.id for p in world.spotify.playlists_of("member0")} == first_ids and len(first_ids) >= 3
    assert "(new)" not in again.embeds[0]["description"]


async def test_weekly_refresh_dms_a_summary_of_the_new_songs(world: BotWorld) -> None:
    """/schedule set, new likes, the tick at the due time: the member gets a DM counting every new song."""
    await linked_and_sorted(world, options={"min_size": 1})  # every genre gets a playlist: nothing unsorted
    scheduled = await world.final(await world.command(
        "schedule", {"weekday": "friday", "hour": 18, "timezone": "Europe/Berlin"}, user=ALICE, sub="set"))
    assert "Fridays at 18:00" in (scheduled.content or "")
    world.spotify.like("member0", synthetic_library(NEW_SONGS, seed=99, prefix="week"))
    schedule = await world.services.weekly_refresh.schedule(ALICE)
    assert schedule is not None and schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    assert await world.tick() == 1
    summary = world.discord.dms[ALICE][-1].embeds[0]
    assert summary["title"] == "Your weekly genrebot refresh"
    first_line = summary["description"].split("\n")[0]
    assert first_line.startswith(f"{NEW_SONGS} new songs: +")
    added = sum(int(part.split()[0]) for part in first_line.split(": ")[1].split(", "))
    assert added == NEW_SONGS


async def test_leaderboard_shows_the_server_mix_and_the_top_fans_of_a_genre(world: BotWorld) -> None:
    """/leaderboard charts the server's family mix; with a family it lists its top fans."""
    await linked_and_sorted(world)
    board = await world.final(await world.command("leaderboard", user=ALICE))
    assert board.embeds[0]["title"] == "This server's genre mix" and board.attachments
    taxonomy = world.services.classifier.taxonomy
    families = [taxonomy.label(f, "family") for f in await world.services.stats.member_mix(ALICE)]
    assert board.embeds[0]["description"].startswith(f"**{families[0]}** — ")
    top = await world.final(await world.command("leaderboard", {"genre": families[0]}, user=ALICE))
    assert top.embeds[0]["title"] == f"Top {families[0]} fans here"
    assert f"<@{ALICE}>" in top.embeds[0]["fields"][0]["value"]


async def test_stats_shows_the_members_own_genre_mix(world: BotWorld) -> None:
    """/stats answers with the member's genre mix."""
    await linked_and_sorted(world)
    stats = await world.final(await world.command("stats", user=ALICE))
    assert stats.embeds[0]["title"] == "Your genre mix" and stats.attachments


async def test_status_shows_the_link_and_the_recent_runs(world: BotWorld) -> None:
    """/status names the linked Spotify account and lists the sort that ran."""
    await linked_and_sorted(world)
    status = await world.final(await world.command("status", user=ALICE))
    assert "Linked as Member 0" in status.embeds[0]["fields"][0]["value"]
    assert "command · **succeeded**" in status.embeds[0]["fields"][1]["value"]


async def test_privacy_off_leaves_the_member_out_of_the_leaderboards(world: BotWorld) -> None:
    """After /privacy leaderboard:off, the server's mix no longer counts the member."""
    await linked_and_sorted(world)
    await world.final(await world.command("privacy", {"leaderboard": "off"}, user=ALICE))
    hidden = await world.final(await world.command("leaderboard", user=ALICE))
    assert "Nothing classified yet" in hidden.embeds[0]["description"]


async def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 10) -> None:
    """Until a record containing `text` is logged (the bot logs from the same event loop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(text in r.getMessage() for r in caplog.records):
        assert asyncio.get_running_loop().time() < deadline, f"no log record with {text!r}"
        await asyncio.sleep(0.01)


async def test_a_member_with_closed_dms_still_links(world: BotWorld, caplog: pytest.LogCaptureFixture) -> None:
    """Closed DMs (50007) refuse the DM naming the Spotify account: the link stands, the /link reply
    says so, and the refusal is no error in the log."""
    await world.start_bot()
    world.discord.close_dms(BOB)
    with caplog.at_level(logging.INFO):
        linked = await world.link(BOB, "member1")
        await wait_for_log(caplog, "the message is recorded only")  # the DM is tried after the reply
    assert "Linked to the Spotify account" in (linked.content or "")
    assert await world.services.linking.member(BOB) is not None
    assert world.discord.dms.get(BOB, []) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_unlink_forgets_the_member_and_sort_then_asks_to_link(world: BotWorld) -> None:
    """/unlink confirms; a /sort after it says the account isn't linked."""
    await linked_and_sorted(world)
    bye = await world.final(await world.command("unlink", user=ALICE))
    assert "Unlinked" in (bye.content or "")
    refused = await world.final(await world.command("sort", user=ALICE))
    assert "isn't linked" in (refused.content or "")


async def test_schedule_set_before_linking_asks_to_link(world: BotWorld) -> None:
    """/schedule set by a member who never linked is told to /link, and no schedule is kept."""
    await world.start_bot()
    refused = await world.final(await world.command(
        "schedule", {"weekday": "monday", "hour": 9, "timezone": "UTC"}, user=BOB, sub="set"))
    assert "isn't linked" in (refused.content or "") and "went wrong" not in (refused.content or "")
    assert await world.services.weekly_refresh.schedule(BOB) is None


async def test_after_unlink_status_shows_neither_the_spotify_account_nor_the_runs(world: BotWorld) -> None:
    """/unlink deletes what genrebot stored: /status no longer names the Spotify account or lists the sorts of it."""
    await linked_and_sorted(world)
    await world.final(await world.command("unlink", user=ALICE))
    status = await world.final(await world.command("status", user=ALICE))
    account, runs = status.embeds[0]["fields"][0]["value"], status.embeds[0]["fields"][1]["value"]
    assert "Not linked" in account and "Member 0" not in account, account
    assert runs == "None yet", runs


async def test_genres_lists_the_models_families_with_their_genres(world: BotWorld) -> None:
    """/genres shows one field per family of the loaded model, listing its genres, and the model's version."""
    await world.start_bot()
    reply = (await world.command("genres", user=BOB)).original()
    assert reply is not None
    taxonomy = world.services.classifier.taxonomy
    fields = reply.embeds[0]["fields"]
    assert [f["name"] for f in fields] == [taxonomy.label(f, "family") for f in taxonomy]
    for family, field in zip(taxonomy, fields, strict=True):
        assert field["value"].split(", ") == [taxonomy.label(g, "genre") for g in taxonomy[family]]
    assert f"model {world.services.classifier.version}" in reply.embeds[0]["footer"]["text"]


async def test_sort_genres_autocomplete_completes_the_last_entry_of_the_list(world: BotWorld) -> None:
    """Typing part of a name offers the families and genres matching it; after a comma, the list so far is kept."""
    await world.start_bot()
    taxonomy = world.services.classifier.taxonomy
    first, second = taxonomy.label(taxonomy.families[0], "family"), taxonomy.label(taxonomy.genres[-1], "genre")
    fragment = second[:3].lower()
    choices = await world.discord.autocomplete("sort", "genres", fragment, user_id=BOB)
    assert second in [c["value"] for c in choices]
    choices = await world.discord.autocomplete("sort", "genres", f"{first}, {fragment}", user_id=BOB)
    assert f"{first}, {second}" in [c["value"] for c in choices]
    assert all(c["value"].startswith(f"{first}, ") for c in choices)


async def test_closed_dms_are_recorded_and_shown_in_status(world: BotWorld) -> None:
    """A weekly summary that cannot be DMed is recorded, and /status says the DMs are closed."""
    await linked_and_sorted(world, BOB, "member1")
    await world.final(await world.command("schedule", {"weekday": "monday", "hour": 9, "timezone": "UTC"}, user=BOB, sub="set"))
    world.discord.close_dms(BOB)
    schedule = await world.services.weekly_refresh.schedule(BOB)
    assert schedule is not None and schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(seconds=5)
    assert await world.tick() == 1
    status = await world.final(await world.command("status", user=BOB))
    assert "your DMs are closed" in status.embeds[0]["fields"][1]["value"]


async def test_a_server_of_many_members_keeps_every_one_of_them_on_its_leaderboard(world: BotWorld) -> None:
    """Who is still there is asked 100 ids at a time; discord.py asks with a limit of 5 unless told,
    and a gateway that keeps to the limit (as the stand-in does) answered 5: /leaderboard then
    forgot every other member as if they had left."""
    await world.start_bot()
    members = [ALICE + n for n in range(12)]
    for member in members:
        await world.discord.add_member(GUILD, member)
        await world.services.stats.note_member(GUILD, member)
    await world.final(await world.command("leaderboard", user=ALICE))
    assert sorted(await world.services.db.guilds.members(GUILD)) == members


async def test_a_member_who_left_the_server_drops_off_its_leaderboard(world: BotWorld) -> None:
    """With only the guilds intent the bot asks who is still there: a member who left is no longer counted."""
    await linked_and_sorted(world)
    await world.discord.remove_member(GUILD, ALICE)
    board = await world.final(await world.command("leaderboard", user=BOB))
    assert "Nothing classified yet" in board.embeds[0]["description"]
