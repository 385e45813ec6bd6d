"""Rate limits: discord.py reads the stand-in's buckets and waits, retries after a 429, and meets
the global limit, shared buckets and the Cloudflare ban as it would on Discord."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.discord_standin import Bucket, DiscordStandIn, RateLimits
from tests.discord_standin.tinybot import USER, TinyBot, running, until

# Small windows keep each test short; the figures Discord uses are the defaults.
FAST = RateLimits().with_(channel_messages=Bucket(2, 0.5), interaction_webhook=Bucket(2, 0.5))


class RateBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="spam", description="DMs the member several times at once")
        async def spam(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.send_message("sending", ephemeral=True)
            channel = await interaction.user.create_dm()  # once: concurrent sends would each open one
            results = await asyncio.gather(*(channel.send(f"dm {i}") for i in range(count)), return_exceptions=True)
            self.errors += [r for r in results if isinstance(r, BaseException)]
            self.seen.append("spam done")

        @self.tree.command(name="burst", description="defers, then edits and follows up several times")
        async def burst(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.defer()
            for i in range(count):
                await interaction.edit_original_response(content=f"edit {i}")
                await interaction.followup.send(f"follow-up {i}")
            self.seen.append("burst done")

        @self.tree.command(name="lookup", description="fetches many users at once")
        async def lookup(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.defer()
            users = await asyncio.gather(*(self.fetch_user(USER + i) for i in range(count)), return_exceptions=True)
            self.seen += users
            await interaction.edit_original_response(content="looked up")


async def test_channel_bucket_makes_discord_py_wait_instead_of_failing() -> None:
    """Seven DMs at once into a 2-per-0.5 s channel bucket all arrive, and not one draws a 429."""
    server, bot = DiscordStandIn(rate_limits=FAST), RateBot()
    async with running(server, bot):
        await server.invoke("spam", {"count": 7}, user_id=USER)
        await until(lambda: "spam done" in bot.seen, 15)
        assert not bot.errors
        assert sorted(m.content or "" for m in server.dms[USER]) == [f"dm {i}" for i in range(7)]
        sends = [r for r in server.requests if r.method == "POST" and r.path.endswith("/messages")]
        assert [r.status for r in sends] == [200] * 7 and server.rate_limited == []
        assert {r.headers["X-RateLimit-Limit"] for r in sends} == {"2"}
        assert [r.headers["X-RateLimit-Remaining"] for r in sends].count("0") >= 3  # three windows filled


async def test_follow_ups_and_edits_share_the_token_bucket() -> None:
    """Edits of @original and follow-ups count against one bucket per token; discord.py waits it out."""
    server, bot = DiscordStandIn(rate_limits=FAST), RateBot()
    async with running(server, bot):
        record = await server.invoke("burst", {"count": 3}, user_id=USER)
        await record.wait_for(lambda m: m.content == "follow-up 2", 15)
        assert record.original() is not None and record.original().content == "edit 2"  # type: ignore[union-attr]
        webhook = [r for r in server.requests if r.path.startswith("/webhooks/")]
        assert [r.status for r in webhook] == [200] * 6 and server.rate_limited == []
        assert len({r.headers["X-RateLimit-Bucket"] for r in webhook}) == 1  # PATCH and POST: one bucket
        assert not server.violations


async def test_global_limit_answers_429_and_discord_py_retries() -> None:
    """Past the global limit discord.py gets `global: true` 429s, waits, and every request succeeds."""
    server, bot = DiscordStandIn(rate_limits=RateLimits().with_(global_per_s=4)), RateBot()
    async with running(server, bot):
        record = await server.invoke("lookup", {"count": 10}, user_id=USER)
        await record.wait_for(lambda m: m.content == "looked up", 15)
        assert [u.id for u in bot.seen] == [USER + i for i in range(10)]  # type: ignore[attr-defined]
        hits = server.rate_limited
        assert hits and {(h.bucket, h.scope) for h in hits} == {("global", "global")}
        for hit in hits:  # each refused request came back and was answered
            assert any(r.path == hit.path and r.status == 200 and r.at > hit.at for r in server.requests)
        refused = next(r for r in server.requests if r.status == 429)
        assert refused.headers["X-RateLimit-Global"] == "true" and int(refused.headers["Retry-After"]) >= 1


async def test_interaction_endpoints_are_not_bound_by_the_global_limit() -> None:
    """Callbacks and token webhooks go through even when the global limit is exhausted."""
    server, bot = DiscordStandIn(), RateBot()
    async with running(server, bot):
        server.rate_limits = server.rate_limits.with_(global_per_s=1)  # after logging in
        records = [await server.invoke("burst", {"count": 1}, user_id=USER + i) for i in range(5)]
        for record in records:
            await record.wait_for(lambda m: m.content == "follow-up 0", 10)
        assert not any(h.path.startswith(("/interactions/", "/webhooks/")) for h in server.rate_limited)


@pytest.mark.parametrize("path_prefix", ["/channels/", "/webhooks/"])
async def test_injected_429_is_waited_out_and_retried(path_prefix: str) -> None:
    """A 429 from a bucket the client could not know (a fault hook) is retried after `retry_after`."""
    server, bot = DiscordStandIn(), RateBot()
    async with running(server, bot):
        server.throttle(2, retry_after=0.2, method="POST", path_prefix=path_prefix)
        if path_prefix == "/channels/":
            await server.invoke("spam", {"count": 1}, user_id=USER)
            await until(lambda: "spam done" in bot.seen, 10)
            assert [m.content for m in server.dms[USER]] == ["dm 0"]
        else:
            record = await server.invoke("burst", {"count": 1}, user_id=USER)
            await record.wait_for(lambda m: m.content == "follow-up 0", 10)
        assert not bot.errors
        assert [(h.bucket, h.scope) for h in server.rate_limited] == [("injected", "user")] * 2
        posts = [r.status for r in server.requests if r.method == "POST" and r.path.startswith(path_prefix)]
        assert posts == [429, 429, 200]


async def test_too_many_invalid_requests_end_in_a_cloudflare_ban() -> None:
    """403s count as invalid requests; past the ceiling every call gets Cloudflare's 429 page."""
    limits = FAST.with_(invalid_requests=Bucket(3, 600), cloudflare_ban_s=60)
    server, bot = DiscordStandIn(rate_limits=limits), RateBot()
    async with running(server, bot):
        server.close_dms(USER)
        await server.invoke("spam", {"count": 4}, user_id=USER)
        await until(lambda: "spam done" in bot.seen, 10)
        forbidden = [e for e in bot.errors if isinstance(e, discord.Forbidden)]
        banned = [e for e in bot.errors if isinstance(e, discord.HTTPException) and e.status == 429]
        assert len(forbidden) == 3 and len(banned) == 1 and "1015" in banned[0].text
        server.advance(61)
        await server.invoke("spam", {"count": 1}, user_id=USER)  # the ban lifts with time
        await until(lambda: bot.seen.count("spam done") == 2, 10)
        assert isinstance(bot.errors[-1], discord.Forbidden)
