"""The weekly refresh's outbox: the DMs a finished refresh has to send, until each is sent.

A refresh's DMs are queued in the transaction that ends it (`Database.finish_refresh`), so a
process that dies before sending them sends them at its next start; each is deleted in the
transaction that records its outcome on the runs it tells of (`Database.record_refresh_dm`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from storage.records import RefreshDm
from storage.sql import SqlHandle, now, to_optional_datetime

_COLUMNS = "id, discord_id, run_ids, content, embed, attachment_name, attachment, tried_at"


class RefreshDmRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def queue(self, dms: Sequence[RefreshDm]) -> None:
        async with self.sql.transaction() as tx:
            for dm in dms:
                await tx.insert(
                    """INSERT INTO refresh_dms (discord_id, run_ids, content, embed, attachment_name, attachment,
                         queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    (dm.discord_id, json.dumps(list(dm.run_ids)), dm.content,
                     None if dm.embed is None else json.dumps(dm.embed), dm.attachment_name, dm.attachment, now()),
                )

    async def pending(self, discord_id: int | None = None) -> list[RefreshDm]:
        """The DMs still to send (of one member, or everyone's), in the order they were queued."""
        if discord_id is None:
            rows = await self.sql.fetchall(f"SELECT {_COLUMNS} FROM refresh_dms ORDER BY id")  # noqa: S608
        else:
            rows = await self.sql.fetchall(
                f"SELECT {_COLUMNS} FROM refresh_dms WHERE discord_id = ? ORDER BY id", (discord_id,)  # noqa: S608
            )
        return [_refresh_dm(row) for row in rows]

    async def mark_tried(self, dm_id: int, at: datetime) -> None:
        """A send of the DM begins (committed before Discord sees it); the first try's time is kept."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "UPDATE refresh_dms SET tried_at = COALESCE(tried_at, ?) WHERE id = ?", (at.timestamp(), dm_id)
            )

    async def mark_untried(self, dm_id: int) -> None:
        """The send `mark_tried` announced never reached Discord: no try to time from."""
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE refresh_dms SET tried_at = NULL WHERE id = ?", (dm_id,))

    async def remove(self, dm_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM refresh_dms WHERE id = ?", (dm_id,))

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM refresh_dms WHERE discord_id = ?", (discord_id,))


def _refresh_dm(row: sqlite3.Row) -> RefreshDm:
    return RefreshDm(
        discord_id=int(row["discord_id"]),
        run_ids=tuple(json.loads(row["run_ids"])),
        content=row["content"],
        embed=None if row["embed"] is None else json.loads(row["embed"]),
        attachment_name=row["attachment_name"],
        attachment=row["attachment"],
        id=int(row["id"]),
        tried_at=to_optional_datetime(row["tried_at"]),
    )
