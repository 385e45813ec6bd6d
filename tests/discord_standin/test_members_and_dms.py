"""Guild membership and DMs: who the bot can DM (50007 otherwise), how a bot without privileged
intents checks a member (GET member, 404 10007), and what the GUILD_MEMBERS intent changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest

from tests.discord_standin import INTENT_GUILD_MEMBERS, DiscordStandIn
from tests.discord_standin.tinybot import GUILD, USER, TinyBot, pointed_at, running, until

STRANGER = 5151


class MembersBot(TinyBot):
    def __init__(self, intents: discord.Intents | None = None) -> None:
        super().__init__(intents)
        self.removed: list[int] = []
        self.joined: list[int] = []

        @self.tree.command(name="dmuser", description="DMs another user")
        async def dmuser(interaction: discord.Interaction, who: discord.User) -> None:
            await interaction.response.send_message("trying", ephemeral=True)
            try:
                await who.send("hello from the bot")
                self.seen.append(("sent", who.id))
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="whoami", description="records the names Discord gives the member")
        async def whoami(interaction: discord.Interaction) -> None:
            self.seen.append(("names", interaction.user.display_name, interaction.user.name))
            await interaction.response.send_message("noted", ephemeral=True)

        @self.tree.command(name="ismember", description="asks Discord whether a user is in this server")
        async def ismember(interaction: discord.Interaction, who: discord.User) -> None:
            await interaction.response.defer(ephemeral=True)
            assert interaction.guild is not None
            try:
                member = await interaction.guild.fetch_member(who.id)
                self.seen.append(("member", member.id))
            except discord.NotFound as exc:
                self.seen.append(("gone", exc.code))
            await interaction.edit_original_response(content="checked")

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        self.removed.append(payload.user.id)

    async def on_member_join(self, member: discord.Member) -> None:
        self.joined.append(member.id)


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, MembersBot]]:
    server, bot = DiscordStandIn(), MembersBot()
    async with running(server, bot):
        yield server, bot


async def test_dm_to_a_user_who_shares_no_server_is_forbidden(world: tuple[DiscordStandIn, MembersBot]) -> None:
    """50007 until the user joins a server of the bot's; again once they leave it."""
    server, bot = world
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.Forbidden) and bot.errors[0].code == 50007
    assert bot.errors[0].text == "Cannot send messages to this user"
    await server.add_member(GUILD, STRANGER)
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    await until(lambda: ("sent", STRANGER) in bot.seen)
    assert [m.content for m in server.dms[STRANGER]] == ["hello from the bot"]
    await server.remove_member(GUILD, STRANGER)
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    await until(lambda: len(bot.errors) == 2)
    assert isinstance(bot.errors[1], discord.Forbidden) and bot.errors[1].code == 50007
    assert not server.violations


async def test_a_renamed_user_reaches_the_bot_by_the_new_names_within_discords_rules(
    world: tuple[DiscordStandIn, MembersBot],
) -> None:
    """A display name may hold markdown (up to 32 characters); a username only a-z, 0-9, '_' and '.'."""
    server, bot = world
    server.rename(USER, global_name="**Loud** _Name_", username="__under__")
    await server.invoke("whoami", user_id=USER)
    await until(lambda: bool(bot.seen))
    assert bot.seen == [("names", "**Loud** _Name_", "__under__")]
    with pytest.raises(AssertionError, match="username"):
        server.rename(USER, username="**bold**")
    with pytest.raises(AssertionError, match="display name"):
        server.rename(USER, global_name="x" * 33)


async def test_closed_dms_are_a_switch_per_user(world: tuple[DiscordStandIn, MembersBot]) -> None:
    """A member who closed their DMs gets none (50007); opening them again lets DMs through."""
    server, bot = world
    await server.add_member(GUILD, STRANGER)
    server.close_dms(STRANGER)
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    await until(lambda: bool(bot.errors))
    assert isinstance(bot.errors[0], discord.Forbidden) and bot.errors[0].code == 50007
    server.open_dms(STRANGER)
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    await until(lambda: ("sent", STRANGER) in bot.seen)


async def test_a_bot_without_privileged_intents_checks_membership_by_get_member(
    world: tuple[DiscordStandIn, MembersBot],
) -> None:
    """GET /guilds/{id}/members/{user} works without the members intent: the member, then 10007."""
    server, bot = world
    await server.add_member(GUILD, STRANGER)
    record = await server.invoke("ismember", {"who": STRANGER}, user_id=USER)
    await record.wait_for(lambda m: m.content == "checked")
    await server.remove_member(GUILD, STRANGER)
    record = await server.invoke("ismember", {"who": STRANGER}, user_id=USER)
    await record.wait_for(lambda m: m.content == "checked")
    assert bot.seen == [("member", STRANGER), ("gone", 10007)]
    assert bot.removed == []  # GUILD_MEMBER_REMOVE is for sessions with the members intent only
    assert not server.is_member(GUILD, STRANGER) and server.is_member(GUILD, USER)


async def test_listing_members_needs_the_privileged_intent_in_the_portal() -> None:
    """The member list answers 403 50001 unless GUILD_MEMBERS is switched on for the application."""
    for portal, expected in ((0, "forbidden"), (INTENT_GUILD_MEMBERS, [USER])):
        server, bot = DiscordStandIn(portal_intents=portal), MembersBot()
        async with running(server, bot):
            await server.add_member(GUILD, USER)
            try:
                listed: object = [int(m["user"]["id"]) for m in await bot.http.get_members(GUILD, 1000, None)]
            except discord.Forbidden as exc:
                listed = "forbidden" if exc.code == 50001 else exc
            assert listed == expected


async def test_privileged_intent_off_in_the_portal_refuses_identify() -> None:
    """IDENTIFY with the members intent, not enabled for the app: close 4014, PrivilegedIntentsRequired."""
    server, bot = DiscordStandIn(), MembersBot(discord.Intents(guilds=True, members=True))
    await server.start()
    try:
        async with pointed_at(server):
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(bot.start(server.token), 10)
    finally:
        await bot.close()
        await server.stop()
    assert not server.identified.is_set()


async def test_with_the_members_intent_the_bot_sees_joins_and_leaves() -> None:
    """GUILD_MEMBER_ADD / GUILD_MEMBER_REMOVE reach a session that asked for GUILD_MEMBERS."""
    server = DiscordStandIn(portal_intents=INTENT_GUILD_MEMBERS)
    bot = MembersBot(discord.Intents(guilds=True, members=True))
    async with running(server, bot):
        await server.add_member(GUILD, STRANGER)
        await until(lambda: bot.joined == [STRANGER])
        await server.remove_member(GUILD, STRANGER)
        await until(lambda: bot.removed == [STRANGER])


async def test_a_member_who_left_cannot_run_commands_there(world: tuple[DiscordStandIn, MembersBot]) -> None:
    """The stand-in refuses to dispatch a command from a user who is no longer in the guild."""
    server, _ = world
    await server.add_member(GUILD, STRANGER)
    await server.remove_member(GUILD, STRANGER)
    with pytest.raises(AssertionError, match="left guild"):
        await server.invoke("ismember", {"who": USER}, user_id=STRANGER)


async def test_waiting_for_a_dm_returns_it_once_delivered(world: tuple[DiscordStandIn, MembersBot]) -> None:
    """`wait_for_dm` waits for a DM sent after it started waiting, and only for a matching one."""
    server, _ = world
    await server.add_member(GUILD, STRANGER)
    waiting = asyncio.ensure_future(server.wait_for_dm(STRANGER, lambda m: m.content == "hello from the bot", 10))
    await asyncio.sleep(0)
    assert not waiting.done()
    await server.invoke("dmuser", {"who": STRANGER}, user_id=USER)
    assert (await waiting).content == "hello from the bot"
    with pytest.raises(AssertionError, match="no matching DM"):
        await server.wait_for_dm(STRANGER, lambda m: m.content == "something else", 0.2)


async def test_a_bot_removed_from_a_guild_hears_guild_delete_and_may_not_look_up_its_members() -> None:
    """remove_bot sends GUILD_DELETE (discord.py: on_guild_remove); add_bot brings the guild back."""
    server, bot = DiscordStandIn(), TinyBot()
    removed: list[int] = []

    async def on_guild_remove(guild: discord.Guild) -> None:
        removed.append(guild.id)

    bot.add_listener(on_guild_remove)
    async with running(server, bot):
        guild_id = server.guild_ids[0]
        await server.remove_bot(guild_id)
        await until(lambda: bot.get_guild(guild_id) is None)
        assert removed == [guild_id]
        with pytest.raises(discord.Forbidden) as refused:
            await bot.http.get_member(guild_id, USER)
        assert refused.value.code == 50001
        joined = asyncio.ensure_future(bot.wait_for("guild_join", timeout=5))  # a join, not an outage's end
        await server.add_bot(guild_id)
        assert (await joined).id == guild_id
