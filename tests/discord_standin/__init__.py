"""A local Discord (REST + gateway) for end-to-end tests of the real discord.py client."""

from tests.discord_standin.server import (
    DiscordStandIn,
    InteractionRecord,
    Message,
    check_message,
    message_pings_everyone,
)

__all__ = ["DiscordStandIn", "InteractionRecord", "Message", "check_message", "message_pings_everyone"]
