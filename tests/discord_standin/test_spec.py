"""Request bodies checked against Discord's OpenAPI description: what no hand-written rule covers
(an embed colour out of range) is refused as Discord refuses it, and discord.py's own bodies pass."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.spec import SPEC_PATH, RequestSpec
from tests.discord_standin.tinybot import USER, TinyBot, running, until

needs_spec = pytest.mark.skipif(not SPEC_PATH.exists(), reason=f"Discord's OpenAPI description is not at {SPEC_PATH}")


class SpecBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="colour", description="an embed in a colour Discord does not have")
        async def colour(interaction: discord.Interaction, value: int) -> None:
            await interaction.response.defer(ephemeral=True)
            try:
                await interaction.followup.send(embed=discord.Embed(title="mix", colour=value))
                self.seen.append("sent")
            except discord.HTTPException as exc:
                self.errors.append(exc)


@needs_spec
async def test_body_outside_the_openapi_description_is_refused() -> None:
    """Colour 0x1000000 is past the description's maximum: 400 50035 naming the field."""
    server, bot = DiscordStandIn(), SpecBot()
    async with running(server, bot):
        await server.invoke("colour", {"value": 0xFFFFFF}, user_id=USER)
        await until(lambda: "sent" in bot.seen)
        await server.invoke("colour", {"value": 0x1000000}, user_id=USER)
        await until(lambda: bool(bot.errors))
        error = bot.errors[0]
        assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
        assert "In embeds.0.color: 16777216 is greater than the maximum of 16777215" in error.text
        assert server.take_violations() == [
            "/colour: POST /webhooks/{webhook_id}/{webhook_token}: embeds.0.color: "
            "16777216 is greater than the maximum of 16777215"]


@needs_spec
async def test_body_checks_can_be_switched_off() -> None:
    """`validate_bodies=False` leaves only the hand-written rules."""
    server, bot = DiscordStandIn(validate_bodies=False), SpecBot()
    async with running(server, bot):
        await server.invoke("colour", {"value": 0x1000000}, user_id=USER)
        await until(lambda: "sent" in bot.seen)
        assert not bot.errors and not server.violations


@needs_spec
def test_snowflakes_may_be_integers_as_discord_py_sends_them() -> None:
    """The description types snowflakes as strings; Discord (and so the stand-in) accepts integers."""
    spec = RequestSpec.load()
    assert spec is not None
    assert spec.problems("POST", "/users/@me/channels", {"recipient_id": 4242}) == []
    assert spec.problems("POST", "/users/@me/channels", {"recipient_id": "4242"}) == []
    assert spec.problems("POST", "/users/@me/channels", {"recipient_id": -1}) != []
    assert spec.operation("PATCH", "/webhooks/1/t/messages/@original") == "/webhooks/{webhook_id}/{webhook_token}/messages/@original"


def test_without_the_shared_specs_the_check_is_off(tmp_path: Path) -> None:
    """No description file, no check (and no error)."""
    assert RequestSpec.load(tmp_path / "missing.json") is None
