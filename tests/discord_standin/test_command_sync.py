"""Command sync as Discord checks it: names, descriptions, option order and uniqueness, choices,
length bounds and the 4,000 characters of a command, refused with 400 50035 naming the place."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.rules import sync_problems
from tests.discord_standin.tinybot import GUILD, USER, TinyBot, running


def command(**changes: Any) -> dict[str, Any]:
    return {"name": "sort", "type": 1, "description": "Sort your liked songs", "options": [], **changes}


def option(name: str, **changes: Any) -> dict[str, Any]:
    return {"name": name, "type": 3, "description": f"the {name}", **changes}


@pytest.mark.parametrize(("body", "where", "code"), [
    (command(name="Sort"), "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    (command(name="sort songs"), "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    (command(name="s" * 33), "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    (command(description=""), "0.description", "BASE_TYPE_BAD_LENGTH"),
    (command(options=[option("Genres")]), "0.options.0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    (command(options=[option("genres", description="")]), "0.options.0.description", "BASE_TYPE_BAD_LENGTH"),
    (command(options=[option("level"), option("genres", required=True)]), "0.options.1.required",
     "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"),
    (command(options=[option("level"), option("level")]), "0.options.1.name",
     "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME"),
    (command(options=[option("level", choices=[{"name": f"c{n}", "value": f"c{n}"} for n in range(26)])]),
     "0.options.0.choices", "BASE_TYPE_MAX_LENGTH"),
    (command(options=[option("level", max_length=6001)]), "0.options.0.max_length", "NUMBER_TYPE_MAX"),
    (command(options=[{"name": "set", "type": 1, "description": "set it", "options": [option("Day")]}]),
     "0.options.0.options.0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    (command(options=[option(f"o{n}", description="d" * 100, choices=[
        {"name": "n" * 100, "value": "v" * 100} for _ in range(2)]) for n in range(9)]),
     "0", "APPLICATION_COMMAND_TOO_LARGE"),
])
def test_a_command_outside_discords_rules_is_refused(body: dict[str, Any], where: str, code: str) -> None:
    assert (where, code) in [(at, found) for at, found, _ in sync_problems([body])]


def test_two_commands_of_one_name_are_refused() -> None:
    assert [(at, code) for at, code, _ in sync_problems([command(), command()])] == [
        ("1.name", "APPLICATION_COMMANDS_DUPLICATE_NAME")]


def test_names_discord_allows_pass() -> None:
    """Letters without a lowercase form, digits, '-', '_', an apostrophe and Devanagari pass."""
    names = ["sort", "k-pop_2", "don't", "ソート", "गाना"]
    assert sync_problems([command(name=n, options=[option(n)]) for n in names]) == []


async def test_a_refused_sync_is_400_50035_and_a_violation() -> None:
    """The bot sees Discord's answer with the nested errors discord.py prints."""
    server, bot = DiscordStandIn(), TinyBot()
    async with running(server, bot):
        server.take_violations()
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.bulk_upsert_global_commands(server.application_id, [command(name="Sort")])
        assert (refused.value.status, refused.value.code) == (400, 50035)
        assert "In 0.name" in refused.value.text
        assert server.take_violations() and "Sort" not in server.synced_commands


async def test_a_bulk_overwrite_deletes_the_commands_it_leaves_out_of_its_scope() -> None:
    """PUT replaces the scope's whole set: a global command left out is gone, guild ones stay."""
    server, bot = DiscordStandIn(), TinyBot()
    async with running(server, bot):
        app = server.application_id
        await bot.http.bulk_upsert_global_commands(app, [command(), command(name="stats")])
        await bot.http.bulk_upsert_guild_commands(app, GUILD, [command(name="here")])
        await bot.http.bulk_upsert_global_commands(app, [command()])
        assert set(server.synced_commands) == {"sort", "here"}
        with pytest.raises(AssertionError, match="never synced /stats"):
            await server.invoke("stats", user_id=USER)
