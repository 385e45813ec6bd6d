"""At LOG_LEVEL=DEBUG the bot's log carries no interaction token, bot token or Spotify secret."""

from __future__ import annotations

import io
import logging

from bot.log_redaction import CAPPED_LOGGERS, SILENCED_LOGGERS, install_log_handler
from tests.e2e.conftest import CLIENT_SECRET, BotWorld

MEMBER = 100_000_000_000_006_001


async def test_debug_logs_through_real_interactions_carry_no_secrets(world: BotWorld) -> None:
    """/link, a dry-run /sort and /genres at DEBUG: no interaction token or secret in the output."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in (*CAPPED_LOGGERS, *SILENCED_LOGGERS, "discord")}
    logging.getLogger("discord").setLevel(logging.NOTSET)
    handler = install_log_handler("DEBUG", secrets=world.settings.secret_values(), stream=stream)
    try:
        await world.start_bot()
        await world.link(MEMBER, "member0")
        await world.final(await world.command("sort", {"dry_run": True}, user=MEMBER))
        await world.command("genres", user=MEMBER)
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
    text = stream.getvalue()
    assert " DEBUG discord." in text, "discord.py's debug logging did run"
    secrets = [*world.discord.interactions, world.discord.token, CLIENT_SECRET,
               world.settings.token_encryption_key.get_secret_value()]  # type: ignore[union-attr]
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, f"{len(leaked)} secrets in the DEBUG log"
