"""Facts about the app itself that must survive a restart (e.g. Spotify withholds audio features)."""

from __future__ import annotations

from storage.sql import SqlHandle


class AppStateRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get(self, key: str) -> str | None:
        row = await self.sql.fetchone("SELECT value FROM app_state WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
