"""The Discord stand-in's core: login, READY, command sync, interactions, acknowledgements, message
limits, DMs, RESUME and the 15-minute token, through a tiny discord.py bot that breaks rules on purpose."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.discord_standin import DiscordStandIn, Message, check_message, message_pings_everyone
from tests.discord_standin.tinybot import GUILD, USER, TinyBot, delivered_interactions, running, until

PNG = b"\x89PNG\r\n\x1a\nfake-image-bytes"


class CoreBot(TinyBot):
    """Each command exercises one behaviour of the stand-in."""

    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="chart", description="defers, then an embed and a PNG")
        async def chart(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            embed = discord.Embed(title="chart", description="genres").set_image(url="attachment://c.png")
            await interaction.edit_original_response(embed=embed, attachments=[discord.File(io.BytesIO(PNG), "c.png")])

        @self.tree.command(name="slow", description="replies once the gate opens")
        async def slow(interaction: discord.Interaction) -> None:
            await self.gate.wait()
            try:
                await interaction.response.send_message("too late")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="long", description="sends 2,001 characters")
        async def long(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            try:
                await interaction.edit_original_response(content="x" * 2001)
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="twice", description="acknowledges twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            try:  # a fresh InteractionResponse forgets the first answer, so the second really is sent
                await discord.InteractionResponse(interaction).send_message("second")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="dm", description="DMs the member")
        async def dm(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("check your DMs", ephemeral=True)
            try:
                await interaction.user.send("hello")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="wait", description="defers, waits for the gate, then follows up")
        async def wait(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await self.gate.wait()
            try:
                await interaction.edit_original_response(content="edited")
                await interaction.followup.send("follow-up")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="genre", description="autocompletes a genre")
        async def genre(interaction: discord.Interaction, name: str, limit: int = 3) -> None:
            self.seen.append((name, limit))
            await interaction.response.send_message(f"{name} x{limit}")

        @genre.autocomplete("name")
        async def genre_names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            names = ["pop", "rock", "rap", "r&b", "latin", "edm"]
            return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

        @self.tree.command(name="here", description="only in a server")
        @app_commands.guild_only()
        async def here(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("here")

        stats = app_commands.Group(name="stats", description="statistics", guild_ids=[GUILD])

        @stats.command(name="show", description="typed options")
        async def show(interaction: discord.Interaction, count: int, ratio: float, loud: bool,
                       who: discord.User) -> None:
            self.seen.append((count, ratio, loud, who.id))
            await interaction.response.send_message("shown")

        self.tree.add_command(stats)


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, CoreBot]]:
    server, bot = DiscordStandIn(), CoreBot()
    async with running(server, bot):
        yield server, bot


async def test_login_ready_and_sync(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    assert [(r.method, r.path) for r in server.requests][:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert bot.user is not None and bot.user.id == server.application_id
    assert bot.get_guild(GUILD) is not None
    assert {"chart", "slow", "long", "twice", "dm", "wait", "genre", "stats"} <= set(server.synced_commands)
    assert any(r.method == "PUT" and r.path == f"/applications/{server.application_id}/guilds/{GUILD}/commands"
               for r in server.requests)
    assert server.synced_commands["stats"]["options"][0]["name"] == "show"
    assert not server.violations


async def test_unsynced_command_cannot_be_invoked(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, _ = world
    with pytest.raises(AssertionError, match="never synced /nope"):
        await server.invoke("nope", user_id=USER)
    with pytest.raises(AssertionError, match="no option"):
        await server.invoke("genre", {"colour": "red"}, user_id=USER)


async def test_a_guild_only_command_cannot_be_run_in_a_dm(world: tuple[DiscordStandIn, CoreBot]) -> None:
    """A global command synced with contexts [0] (discord.py's guild_only) is not offered in DMs;
    one without contexts is, and a guild-only command runs in a guild."""
    server, bot = world
    assert server.synced_commands["here"]["contexts"] == [0]
    with pytest.raises(AssertionError, match=r"Discord refuses /here in a DM: its contexts are \[0\]"):
        await server.invoke("here", user_id=USER, guild_id=None)
    record = await server.invoke("here", user_id=USER)
    await record.wait_for(lambda m: m.content == "here")
    record = await server.invoke("genre", {"name": "pop"}, user_id=USER, guild_id=None)
    await record.wait_for(lambda m: m.content == "pop x3")
    assert not server.violations and delivered_interactions(server) == 2


async def test_deferred_edit_with_embed_and_png(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, _ = world
    record = await server.invoke("chart", user_id=USER)
    await record.wait_acknowledged()
    final = await record.wait_for(lambda m: bool(m.embeds))
    assert record.acknowledged_at is not None and [m.kind for m in record.responses] == ["callback", "edit"]
    assert record.responses[0].content is None  # the deferral: "thinking…"
    assert final.embeds[0]["title"] == "chart" and final.attachments == [("c.png", PNG)]
    assert record.original() == final
    edit = next(r for r in server.requests if r.method == "PATCH")
    assert edit.path.endswith("/messages/@original") and edit.files == [("c.png", PNG)]
    assert not server.violations


async def test_late_acknowledgement(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    record = await server.invoke("slow", user_id=USER)
    await record.wait_until(lambda: bool(server.violations), 10)  # Discord's 3 s pass with no answer
    assert server.violations == ["no acknowledgement within 3s for /slow"]
    bot.gate.set()
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062
    assert record.acknowledged_at is None and record.responses == []


async def test_content_over_2000_characters(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    record = await server.invoke("long", user_id=USER)
    await until(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and error.status == 400 and error.code == 50035
    assert "content" in error.text  # discord.py read the nested `errors` object
    assert server.violations == ["/long: content over 2000 characters (2001)"]
    assert [m.kind for m in record.responses] == ["callback"]


async def test_second_acknowledgement(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    record = await server.invoke("twice", user_id=USER)
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].code == 40060
    assert record.original() is not None and record.original().content == "first"  # type: ignore[union-attr]
    assert server.violations == ["/twice: interaction acknowledged twice"]


async def test_dm_open_then_closed(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    record = await server.invoke("dm", user_id=USER)
    await until(lambda: bool(server.dms.get(USER)))
    assert server.dms[USER][0].content == "hello" and server.dms[USER][0].kind == "dm"
    assert record.original() is not None and record.original().flags & 64  # type: ignore[union-attr]
    server.close_dms(USER + 1)
    await server.invoke("dm", user_id=USER + 1)
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.Forbidden) and bot.errors[0].code == 50007
    assert USER + 1 not in server.dms


async def test_drop_connection_resumes_and_replays(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    running = await server.invoke("wait", user_id=USER)
    await running.wait_acknowledged()
    await server.drop_connection()
    meanwhile = await server.invoke("chart", user_id=USER)  # dispatched while the socket is down
    bot.gate.set()
    await running.wait_for(lambda m: m.kind == "followup" and m.content == "follow-up", 10)
    assert running.original() is not None and running.original().content == "edited"  # type: ignore[union-attr]
    await meanwhile.wait_for(lambda m: bool(m.embeds), 10)  # replayed on RESUME
    assert server.resumed == 1 and not server.violations


async def test_edits_after_fifteen_minutes(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    record = await server.invoke("wait", user_id=USER)
    await record.wait_acknowledged()
    server.clock_offset = 16 * 60
    bot.gate.set()
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].status == 401
    assert bot.errors[0].code == 50027
    assert server.violations == ["/wait: follow-up or edit after the 15-minute token expired"]
    assert [m.kind for m in record.responses] == ["callback"]


async def test_autocomplete_and_typed_options(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, bot = world
    choices = await server.autocomplete("genre", "name", "r", user_id=USER)
    assert choices == [{"name": "rock", "value": "rock"}, {"name": "rap", "value": "rap"}, {"name": "r&b", "value": "r&b"}]
    record = await server.invoke("genre", {"name": "pop", "limit": "5"}, user_id=USER)
    await record.wait_for(lambda m: m.content == "pop x5")
    record = await server.invoke("stats", {"count": "7", "ratio": 0.5, "loud": True, "who": 77}, user_id=USER,
                                 subcommand="show")
    await record.wait_for(lambda m: m.content == "shown")
    assert bot.seen == [("pop", 5), (7, 0.5, True, 77)]
    assert not server.violations


async def test_unknown_routes_answer_404(world: tuple[DiscordStandIn, CoreBot]) -> None:
    server, _ = world
    async with aiohttp.ClientSession() as session, session.get(f"{server.api_base}/guilds/1/bans",
                                                               headers={"Authorization": f"Bot {server.token}"}) as r:
        assert r.status == 404 and await r.json() == {"code": 0, "message": "404: Not Found"}
        assert "X-RateLimit-Remaining" not in r.headers
    assert server.requests[-1].path == "/guilds/1/bans"


def test_select_menus_and_crowded_action_rows_are_refused_as_discord_refuses_them() -> None:
    """A row of six buttons, a select beside a button, a select of 26 options, option labels, values
    or descriptions over 100 characters, a custom_id over 100 and a placeholder over 150 are refused;
    a select of 25 options at the limits goes through (discord.com/developers/docs/components/reference)."""
    def select(options: int, text: int = 10, custom_id: str = "pick", placeholder: str = "p") -> dict[str, object]:
        return {"type": 3, "custom_id": custom_id, "placeholder": placeholder, "options": [
            {"label": f"{i}".ljust(text, "l"), "value": f"{i}".ljust(text, "v"), "description": "d" * text}
            for i in range(options)]}
    button = {"type": 2, "style": 1, "label": "ok", "custom_id": "b"}
    assert check_message({"content": "x", "components": [{"type": 1, "components": [select(25, 100, "c" * 100, "p" * 150)]}]}) == []
    refused = {
        "more than 5 components in an action row": [{"type": 1, "components": [
            {**button, "custom_id": f"b{i}"} for i in range(6)]}],
        "a select menu shares its action row": [{"type": 1, "components": [select(2), button]}],
        "select menu with 1-25 options": [{"type": 1, "components": [select(26)]}],
        "select option label over 100 characters": [{"type": 1, "components": [select(2, 101)]}],
        "select menu needs a custom_id of at most 100 characters": [{"type": 1, "components": [select(2, 10, "c" * 101)]}],
        "select placeholder over 150 characters": [{"type": 1, "components": [select(2, 10, "c", "p" * 151)]}],
    }
    for expected, rows in refused.items():
        assert expected in check_message({"content": "x", "components": rows}), expected
    assert {"select option value over 100 characters", "select option description over 100 characters"} <= set(
        check_message({"content": "x", "components": [{"type": 1, "components": [select(2, 101)]}]}))


def test_message_rules_without_a_bot() -> None:
    assert message_pings_everyone(Message(content="hi @everyone"))
    assert message_pings_everyone(Message(content="@here", allowed_mentions={"parse": ["everyone"]}))
    assert not message_pings_everyone(Message(content="@everyone", allowed_mentions={"parse": []}))
    assert not message_pings_everyone(Message(content="hello"))
    assert check_message({"content": "ok", "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b"}]}]}) == []
    too_much = {
        "embeds": [{"title": "t" * 257, "description": "d" * 4097, "footer": {"text": "f" * 2049},
                    "author": {"name": "a" * 257}, "fields": [{"name": "n", "value": "v"}] * 26}] * 11,
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 5, "label": "l" * 81, "custom_id": "x", "url": "https://x"},
            {"type": 2, "style": 1, "label": "ok"},
        ]}] * 6,
    }
    problems = set(check_message(too_much))
    for expected in ("more than 10 embeds", "embed title over 256 characters", "embed description over 4096 characters",
                     "more than 25 embed fields", "embed footer over 2048 characters", "embed author over 256 characters",
                     "more than 5 action rows", "button label over 80 characters",
                     "link button needs a url and no custom_id", "button needs a custom_id of at most 100 characters"):
        assert expected in problems, expected
    assert any(p.startswith("embeds over 6000 characters") for p in problems)
