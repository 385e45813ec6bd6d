"""Getting an answer to a member: the interaction's reply while its token lives, a DM after.

Discord lets a bot edit its reply to a slash command for 15 minutes (the interaction token's
life); after that every edit fails with 401 50027 "Invalid Webhook Token". A sort can outlive
it (queued behind SORT_CONCURRENCY, waiting out Spotify's rate limits), so `InteractionReply`
stops editing once the token is close to its end or an edit was refused, and the caller sends
the result by DM instead. A DM can fail too: 403 50007 means the member either closed their DMs
or shares no server with the bot any more. `send_dm` asks Discord which (GET the member in the
servers genrebot knows them from: 404 10007 means they left) so /status can say the right thing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Literal

import aiohttp
import discord

log = logging.getLogger(__name__)

DmStatus = Literal["sent", "closed", "left", "failed", "unanswered", "unsent"]  # the last two: only with a nonce

# Stop editing this long before the token's end: an edit that may not land in time goes by DM.
TOKEN_MARGIN = timedelta(seconds=60)
# Discord's answers that mean the interaction's token (or its reply) is gone for good.
DEAD_TOKEN_CODES = frozenset({50027, 10015, 10008, 10062})
CANNOT_DM = 50007
_DEAD = "genrebot.reply_dead"


def token_is_dead(error: discord.HTTPException) -> bool:
    return error.code in DEAD_TOKEN_CODES or error.status == 401


class InteractionReply:
    """Edits one interaction's original reply while its token lives; knows when it no longer can."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction

    @property
    def dead(self) -> bool:
        """An edit was refused for good (kept on the interaction, so every reply to it knows)."""
        return bool(self.interaction.extras.get(_DEAD))

    @property
    def usable(self) -> bool:
        if self.dead:
            return False
        return discord.utils.utcnow() < self.interaction.expires_at - TOKEN_MARGIN

    async def edit(self, **changes: Any) -> bool:
        """Edit the reply; False (and no request) once the token is gone or about to be."""
        if not self.usable:
            return False
        try:
            await self.interaction.edit_original_response(**changes)
        except discord.HTTPException as error:
            if not token_is_dead(error):
                raise
            self.interaction.extras[_DEAD] = True
            log.info("interaction %s can no longer be edited (%s %s)", self.interaction.id, error.status, error.code)
            return False
        return True


async def send_dm(
    client: discord.Client, member_id: int, *, known_guild_ids: Iterable[int] = (), nonce: str | None = None,
    **message: Any,
) -> DmStatus:
    """DM a member: 'sent'; 'closed' (their DMs are closed); 'left' (they share no server with the
    bot any more, as far as the servers in `known_guild_ids` tell); 'failed' (anything else).

    With a `nonce` (sent with `enforce_nonce`, so Discord keeps one message per nonce for a few
    minutes), a send whose answer never came is 'unanswered': sending it again is safe for a while;
    one that could not connect to Discord at all is 'unsent': Discord never had it."""
    try:
        user = client.get_user(member_id) or await client.fetch_user(member_id)
        await user.send(**message) if nonce is None else await user.send(nonce=nonce, **message)
    except discord.Forbidden as error:
        if error.code != CANNOT_DM:
            log.warning("DM to member %s refused (%s)", member_id, error.code)
            return "failed"
        if await _is_in_any(client, member_id, known_guild_ids):
            log.info("member %s has closed DMs; the message is recorded only", member_id)
            return "closed"
        log.info("member %s shares no server with genrebot any more; the message is recorded only", member_id)
        return "left"
    except discord.HTTPException:
        log.warning("could not DM member %s", member_id, exc_info=True)
        return "failed"
    except aiohttp.ClientConnectorError:  # no connection was made, so no request went out
        log.warning("could not reach Discord to DM member %s", member_id, exc_info=True)
        return "failed" if nonce is None else "unsent"
    except (aiohttp.ClientError, OSError, TimeoutError):
        # discord.py raises aiohttp's (or the socket's) error as is when the connection to Discord
        # fails: Discord may or may not have the message; the caller's next DM may still get through.
        log.warning("no answer from Discord to a DM to member %s", member_id, exc_info=True)
        return "failed" if nonce is None else "unanswered"
    return "sent"


async def _is_in_any(client: discord.Client, member_id: int, guild_ids: Iterable[int]) -> bool:
    """Whether Discord still has the member in one of these servers (needs no privileged intent)."""
    for guild_id in dict.fromkeys(guild_ids):
        guild = client.get_guild(guild_id)
        if guild is None:
            continue  # the bot itself left that server
        try:
            await guild.fetch_member(member_id)
        except discord.NotFound:
            continue
        except discord.HTTPException:
            return True  # cannot tell: do not claim they left
        return True
    return False
