"""A member's own genre mix and a server's leaderboards, for `/stats`, `/leaderboard` and `/privacy`.

A server's leaderboards count the members who used genrebot there (noted on every command),
are still in it, and did not opt out. Without the privileged members intent the bot hears of
no departures, so before a leaderboard is read the Discord layer says which of the noted
members the server still has (`MembershipCheck`) and the others are dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.services.playlist_plan import genre_label
from storage import Database
from storage.records import GenreCount, MemberGenreCount

# Given member ids, returns those the server still has.
MembershipCheck = Callable[[Sequence[int]], Awaitable[set[int]]]


class StatsService:
    def __init__(self, db: Database, model_version: str) -> None:
        self.db = db
        self.model_version = model_version

    async def member_mix(self, discord_id: int) -> dict[str, int]:
        """Songs per genre among the member's liked songs classified by the current model."""
        liked = await self.db.liked.list(discord_id)
        predictions = await self.db.predictions.get_many([s.track_id for s in liked], self.model_version)
        mix: dict[str, int] = {}
        for prediction in predictions.values():
            mix[prediction.genre] = mix.get(prediction.genre, 0) + 1
        return dict(sorted(mix.items(), key=lambda kv: (-kv[1], kv[0])))

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

    async def guild_mix(self, guild_id: int) -> list[GenreCount]:
        return await self.db.leaderboard.genre_mix(guild_id, self.model_version)

    async def top_members(self, guild_id: int, genre: str, limit: int = 10) -> list[MemberGenreCount]:
        return await self.db.leaderboard.top_members(guild_id, genre, self.model_version, limit)

    @staticmethod
    def labelled(mix: dict[str, int]) -> dict[str, int]:
        return {genre_label(k): v for k, v in mix.items()}
