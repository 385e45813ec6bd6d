"""The weekly refresh's DMs: queued when a refresh ends, sent from storage, each at most once.

A refresh's summaries (and what it could not sort, or why it failed) are written to storage in the
transaction that ends it (`Database.finish_refresh`; `Database.end_refresh` for one that
raised), so a bot stopped or killed before sending them sends them after its start, at the first
tick. Each DM is marked tried before Discord sees it and leaves the outbox in the transaction that records its outcome on the runs it tells of.

A send whose answer never came (the connection broke: Discord may have created the message) is
sent again under the same nonce with `enforce_nonce`, for which Discord returns the message it
already created instead of a second one, "in the past few minutes" (its docs give no figure:
RESEND_WINDOW stays well inside that). Past the window it is not sent again: the runs say
'unconfirmed', as /status does. A send that could not connect to Discord at all never reached
it: the DM stays queued, its window not begun, until Discord can be reached. After closed DMs or no server in common the member's later DMs
are not knocked for again; their runs say the same. The Discord side (turning a queued DM into a
message) is the cog's `send`; nothing here knows Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from storage import Database
from storage.records import RefreshDm

log = logging.getLogger(__name__)

RESEND_WINDOW = timedelta(minutes=2)
UNANSWERED = "unanswered"  # what `send` returns when Discord's answer never came
UNSENT = "unsent"  # what `send` returns when Discord could not be reached: it never had the DM
UNCONFIRMED = "unconfirmed"  # recorded for a DM that may have arrived and is not sent again
NOT_KNOCKING_AGAIN = ("closed", "left")

# A queued DM and its nonce -> 'sent', 'closed', 'left', 'failed', UNANSWERED or UNSENT.
SendDm = Callable[[RefreshDm, str], Awaitable[str]]


def nonce_of(dm: RefreshDm) -> str:
    """The DM's nonce, the same on every try (Discord takes at most 25 characters)."""
    return f"genrebot-dm-{dm.id}"


class RefreshDmOutbox:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self._sending: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def members_waiting(self) -> list[int]:
        """The members with DMs still to send (a bot stopped before sending them, a lost answer)."""
        return list(dict.fromkeys(dm.discord_id for dm in await self.db.refresh_dms.pending()))

    async def deliver(self, discord_id: int, send: SendDm) -> None:
        """Send the member's queued DMs in order, one sender per member at a time."""
        async with self._sending[discord_id]:
            last = "sent"
            for dm in await self.db.refresh_dms.pending(discord_id):
                if dm.tried_at is not None and self.clock() - dm.tried_at > RESEND_WINDOW:
                    log.warning("DM %s to member %s may have arrived; not sent again", dm.id, discord_id)
                    await self.db.record_refresh_dm(dm, UNCONFIRMED)
                    continue
                if last in NOT_KNOCKING_AGAIN:
                    await self.db.record_refresh_dm(dm, last)
                    continue
                await self.db.refresh_dms.mark_tried(dm.id, self.clock())
                status = await send(dm, nonce_of(dm))
                if status == UNANSWERED:
                    return  # kept, and the DMs after it: the next tick sends it again under its nonce
                if status == UNSENT:
                    if dm.tried_at is None:  # never reached Discord: its window has not begun
                        await self.db.refresh_dms.mark_untried(dm.id)
                    return  # kept, and the DMs after it, until Discord can be reached
                await self.db.record_refresh_dm(dm, status)
                last = status
