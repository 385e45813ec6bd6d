"""Server memberships and leaderboard opt-outs."""

from __future__ import annotations

from storage import Database
from tests.storage.conftest import link


async def test_an_opt_out_is_kept_over_unlink_and_relink(db: Database) -> None:
    """Leaving a server's leaderboard is the member's choice, not the link's."""
    await link(db, 1)
    await db.guilds.add_member(10, 1)
    await db.guilds.set_leaderboard_opt_out(10, 1, True)
    await db.unlink_member(1)
    await link(db, 1)
    assert await db.guilds.opted_out(10, 1)


async def test_opting_back_in_clears_the_opt_out(db: Database) -> None:
    """set_leaderboard_opt_out(False) puts the member back."""
    await db.guilds.set_leaderboard_opt_out(10, 1, True)
    await db.guilds.set_leaderboard_opt_out(10, 1, False)
    assert not await db.guilds.opted_out(10, 1)


async def test_members_who_left_a_server_are_no_longer_its_members(db: Database) -> None:
    """remove_members drops the memberships of members the server no longer has."""
    for member in (1, 2, 3):
        await db.guilds.add_member(10, member)
    await db.guilds.add_member(11, 2)
    await db.guilds.remove_members(10, [2, 3])
    assert await db.guilds.members(10) == [1]
    assert await db.guilds.members(11) == [2]


async def test_a_server_the_bot_left_has_no_members(db: Database) -> None:
    """forget_guild drops every membership of that server and no other."""
    await db.guilds.add_member(10, 1)
    await db.guilds.add_member(11, 1)
    await db.guilds.forget_guild(10)
    assert (await db.guilds.members(10), await db.guilds.members(11)) == ([], [1])
