"""A server's leaderboards as the stats service reads them from the counts sorts leave behind."""

from __future__ import annotations

from bot.services.playlist_plan import SortOptions
from tests.bot.conftest import World

ALICE = 1001
GUILD, OTHER_GUILD = 10, 20


async def test_a_familys_genres_here_are_its_genres_songs_among_the_servers_members_most_first(world: World) -> None:
    """family_genres labels each genre of the family with the server's songs of it, most first,
    and leaves out other families' genres and servers the member never used genrebot in."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions())
    stats = world.services.stats
    await stats.note_member(GUILD, ALICE)
    family = next(iter(await stats.member_mix(ALICE, "family")))
    genres = await stats.member_mix(ALICE, "genre")
    expected = {stats.display_name(g, "genre"): n for g, n in genres.items() if stats.taxonomy.family_of(g) == family}

    split = await stats.family_genres(GUILD, family)

    assert split and split == expected
    assert list(split.values()) == sorted(split.values(), reverse=True)
    assert await stats.family_genres(OTHER_GUILD, family) == {}
