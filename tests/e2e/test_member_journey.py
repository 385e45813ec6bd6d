"""A member's whole journey through the real discord.py client: link, sort, re-sort, schedule,
weekly DM, leaderboard, stats, status, privacy and unlink."""

from __future__ import annotations

from datetime import timedelta

from sandbox.library import synthetic_library
from tests.discord_standin import message_pings_everyone
from tests.e2e.conftest import BotWorld

ALICE = 100_000_000_000_000_111
BOB = 100_000_000_000_000_222


async def test_link_sort_resort_schedule_weekly_dm_leaderboard_unlink(world: BotWorld) -> None:
    world.spotify.users["member0"].liked[:0] = [
        (t, world.spotify.users["member0"].liked[0][1]) for t in synthetic_library(2700, seed=4, prefix="big")
    ]
    for track, _ in world.spotify.users["member0"].liked:
        world.spotify.tracks[track.id] = track
    await world.start_bot()

    linked = await world.link(ALICE, "member0")
    assert "Linked as **Member 0**" in (linked.content or "")

    sort = await world.command("sort", user=ALICE)
    assert sort.callback_type == 5, "/sort defers at once"
    reply = await world.final(sort)
    embed = reply.embeds[0]
    assert embed["title"] == "Sorted 3,000 liked songs"
    assert "genrebot](https://open.spotify.com/playlist/" in embed["description"]
    assert any(name == "genre-mix.png" and data.startswith(b"\x89PNG") for name, data in reply.attachments)
    progress = [m.content for m in sort.responses if m.content and m.content.startswith("📥")]
    assert progress, "progress edits while reading liked songs"
    first_ids = {p.id for p in world.spotify.playlists_of("member0")}
    assert len(first_ids) >= 3

    again = await world.final(await world.command("sort", user=ALICE))
    assert {p.id for p in world.spotify.playlists_of("member0")} == first_ids
    assert "(new)" not in again.embeds[0]["description"]

    scheduled = await world.command("schedule", {"weekday": "friday", "hour": 18, "timezone": "Europe/Berlin"},
                                    user=ALICE, sub="set")
    assert "Fridays at 18:00" in (scheduled.original().content or "")  # type: ignore[union-attr]
    world.spotify.like("member0", synthetic_library(14, seed=99, prefix="week"))
    schedule = await world.bot.services.refresher.schedule(ALICE)  # type: ignore[union-attr]
    world.clock.now = schedule.next_run + timedelta(minutes=1)  # type: ignore[union-attr, operator]
    assert await world.bot.weekly.run_due() == 1  # type: ignore[union-attr]
    dm = world.discord.dms[ALICE][-1]
    assert dm.embeds[0]["title"] == "Your weekly genrebot refresh"
    assert dm.embeds[0]["description"].startswith("14 new songs: +")
    added = sum(int(part.split()[0]) for part in dm.embeds[0]["description"].split("\n")[0].split(": ")[1].split(", "))
    assert added <= 14

    board = await world.final(await world.command("leaderboard", user=ALICE))
    assert board.embeds[0]["title"] == "This server's genre mix" and board.attachments
    top = await world.final(await world.command("leaderboard", {"genre": "Rock"}, user=ALICE))
    assert f"<@{ALICE}>" in top.embeds[0]["fields"][0]["value"]
    stats = await world.final(await world.command("stats", user=ALICE))
    assert stats.embeds[0]["title"] == "Your genre mix"
    status = await world.final(await world.command("status", user=ALICE))
    assert "Linked as Member 0" in status.embeds[0]["fields"][0]["value"]
    assert "schedule · **succeeded**" in status.embeds[0]["fields"][1]["value"]

    await world.command("privacy", {"leaderboard": "off"}, user=ALICE)
    hidden = await world.final(await world.command("leaderboard", user=ALICE))
    assert hidden.embeds, hidden.content
    assert "Nothing classified yet" in hidden.embeds[0]["description"]

    bye = await world.final(await world.command("unlink", user=ALICE))
    assert "Unlinked" in (bye.content or "")
    refused = await world.final(await world.command("sort", user=ALICE))
    assert "isn't linked" in (refused.content or "")

    everything = [m for r in world.discord.interactions.values() for m in r.responses] + world.discord.dms[ALICE]
    assert not any(message_pings_everyone(m) for m in everything)


async def test_genres_lists_the_taxonomy_and_autocomplete_offers_it(world: BotWorld) -> None:
    await world.start_bot()
    reply = (await world.command("genres", user=BOB)).original()
    assert reply is not None and {f["name"] for f in reply.embeds[0]["fields"]} == {
        "EDM", "Latin", "Pop", "R&B", "Rap", "Rock"}
    assert "model genre-net-" in reply.embeds[0]["footer"]["text"]
    choices = await world.discord.autocomplete("sort", "genres", "ro", user_id=BOB)
    assert [c["value"] for c in choices] == ["Rock"]
    choices = await world.discord.autocomplete("sort", "genres", "Rock, la", user_id=BOB)
    assert [c["value"] for c in choices] == ["Rock, Latin"]


async def test_closed_dms_are_recorded_and_shown_in_status(world: BotWorld) -> None:
    await world.start_bot()
    await world.link(BOB, "member1")
    await world.final(await world.command("sort", user=BOB))
    await world.command("schedule", {"weekday": "monday", "hour": 9, "timezone": "UTC"}, user=BOB, sub="set")
    world.discord.close_dms(BOB)
    schedule = await world.bot.services.refresher.schedule(BOB)  # type: ignore[union-attr]
    world.clock.now = schedule.next_run + timedelta(seconds=5)  # type: ignore[union-attr, operator]
    assert await world.bot.weekly.run_due() == 1  # type: ignore[union-attr]
    status = await world.final(await world.command("status", user=BOB))
    assert "your DMs are closed" in status.embeds[0]["fields"][1]["value"]
