"""A member's own genre mix and a server's leaderboards, for `/stats`, `/leaderboard` and `/privacy`.

Both read the per-member counts each sort of the member's library leaves behind, at family
level (the default) or genre level, so they show what the member's playlists hold. A server's
leaderboards count the members who used genrebot there (noted on every command), are still in
it, and did not opt out. Without the privileged members intent the bot hears of no departures,
so before a leaderboard is read the Discord layer says which of the noted members the server
still has (`MembershipCheck`) and the others are dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.services.genre_names import Level, Pick, UnknownGenre, closest_names, pick_label, resolve_pick
from classifier import Taxonomy
from storage import Database
from storage.records import GenreCount, MemberGenreCount

# Given member ids, returns those the server still has.
MembershipCheck = Callable[[Sequence[int]], Awaitable[set[int]]]


def ranks(values: Sequence[float]) -> list[int]:
    """Places on a board ordered most first, where equal values share a place and the next place
    skips as many: [300, 300, 100] -> [1, 1, 3]."""
    places: list[int] = []
    for i, value in enumerate(values):
        places.append(places[-1] if i and value == values[i - 1] else i + 1)
    return places


class StatsService:
    def __init__(self, db: Database, model_version: str, taxonomy: Taxonomy) -> None:
        self.db = db
        self.model_version = model_version
        self.taxonomy = taxonomy

    async def member_mix(self, discord_id: int, level: Level = "family") -> dict[str, int]:
        """Songs per family (or genre) among the member's liked songs, as their last sort decided, most first."""
        return await self.db.leaderboard.member_counts(discord_id, self.model_version, level)

    async def note_member(self, guild_id: int, discord_id: int) -> None:
        """The member used genrebot in this server, so its leaderboards may count them."""
        await self.db.guilds.add_member(guild_id, discord_id)

    async def member_guilds(self, discord_id: int) -> list[int]:
        """The servers the member used genrebot in (where to ask Discord whether they are still there)."""
        return await self.db.guilds.of_member(discord_id)

    async def drop_departed_members(self, guild_id: int, still_members: MembershipCheck) -> int:
        """Forget the server's noted members it no longer has; returns how many left."""
        noted = await self.db.guilds.members(guild_id)
        present = await still_members(noted) if noted else set()
        departed = [member for member in noted if member not in present]
        await self.db.guilds.remove_members(guild_id, departed)
        return len(departed)

    async def forget_guild(self, guild_id: int) -> None:
        """The bot left the server: its leaderboards count nobody."""
        await self.db.guilds.forget_guild(guild_id)

    async def set_leaderboard_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> None:
        await self.db.guilds.set_leaderboard_opt_out(guild_id, discord_id, opted_out)

    async def guild_mix(self, guild_id: int, level: Level = "family") -> list[GenreCount]:
        return await self.db.leaderboard.genre_mix(guild_id, self.model_version, level)

    async def family_genres(self, guild_id: int, family: str) -> dict[str, int]:
        """The server's songs of each genre of a family, labelled, most first: how a family's
        leaderboard splits into its genres."""
        in_family = set(self.taxonomy[family])
        rows = await self.guild_mix(guild_id, "genre")
        return self.labelled({row.genre: row.count for row in rows if row.genre in in_family}, "genre")

    async def top_members(self, guild_id: int, pick: Pick, limit: int = 10) -> list[MemberGenreCount]:
        """The server's members with the most songs of a family, or of a genre."""
        return await self.db.leaderboard.top_members(guild_id, pick.key, self.model_version, limit, pick.level)

    def pick(self, text: str, level: Level = "family") -> Pick:
        """A family or a genre by the name a member typed; UnknownGenre with close names otherwise.
        A name both levels have ('Rock') is the family, or at genre level the genre, as in /sort."""
        found = resolve_pick(text, self.taxonomy, level)
        if found is None:
            raise UnknownGenre([text.strip()], closest_names(text, self.taxonomy))
        return found

    def labelled(self, mix: dict[str, int], level: Level = "family") -> dict[str, int]:
        """{'rock': 3} -> {'Rock': 3}; at genre level a genre labelled like its family says which it is."""
        return {self.display_name(k, level): v for k, v in mix.items()}

    def display_name(self, key: str, level: Level = "family") -> str:
        family = key if level == "family" else self.taxonomy.family_of(key)
        return pick_label(Pick(level, key, family), self.taxonomy)
