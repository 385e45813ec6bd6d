"""A local Discord (REST + gateway) for end-to-end tests of the real discord.py client."""

from tests.discord_standin.server import (
    DiscordStandIn,
    InteractionRecord,
    Message,
    RecordedRequest,
    check_message,
    form_errors,
    message_pings_everyone,
)

__all__ = [
    "DiscordStandIn",
    "InteractionRecord",
    "Message",
    "RecordedRequest",
    "check_message",
    "form_errors",
    "message_pings_everyone",
]
