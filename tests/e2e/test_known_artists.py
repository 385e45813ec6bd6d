"""What /sort tells a member about artists the model never met, through the real discord.py client
and the Discord stand-in (which refuses anything over Discord's limits): a line counting the songs
by artists it knows when fewer than nine in ten are, and nothing when nearly all are."""

from __future__ import annotations

from sandbox.library import synthetic_library
from tests.classifier.known_songs import by_artists_in_the_table, demo_songs_by_known_artists
from tests.discord_standin import Message
from tests.e2e.conftest import BotWorld

ERIN = 100_000_000_000_000_555
FIELD = "Artists new to me"


async def sorted_library(world: BotWorld, known: int, made_up: int) -> Message:
    """Erin likes `known` songs by artists of the training sets and `made_up` by invented artists, then runs /sort."""
    await world.start_bot()
    classifier = world.services.classifier
    invented = synthetic_library(made_up, seed=51, prefix="erin")
    assert not by_artists_in_the_table(classifier, invented)
    world.spotify.add_user("erin", "Erin", [*demo_songs_by_known_artists(classifier, known), *invented])
    await world.link(ERIN, "erin")
    return await world.final(await world.command("sort", {"dry_run": True}, user=ERIN))


def field(reply: Message, name: str) -> str | None:
    return next((f["value"] for f in reply.embeds[0]["fields"] if f["name"] == name), None)


async def test_sort_of_a_library_mostly_new_to_the_model_says_how_many_songs_it_knows(world: BotWorld) -> None:
    """40 songs by known artists, 60 by invented ones: the reply counts both and says which to check."""
    reply = await sorted_library(world, known=40, made_up=60)
    assert reply.embeds[0]["title"] == "Sorted 100 liked songs (dry run: nothing written)"
    line = field(reply, FIELD)
    assert line is not None and line.startswith("I know the artists of 40 of these 100 songs. The other 60 are by")
    assert "likeliest to be in the wrong playlist" in line


async def test_sort_of_a_library_of_known_artists_says_nothing_of_them(world: BotWorld) -> None:
    """45 songs by known artists and 5 by invented ones (90 % known): no such line."""
    reply = await sorted_library(world, known=45, made_up=5)
    assert reply.embeds[0]["title"] == "Sorted 50 liked songs (dry run: nothing written)"
    assert field(reply, FIELD) is None
