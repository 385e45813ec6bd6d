"""Which slash-command tree Discord last received, so start-up syncs only when it changed.

Discord rate-limits global command syncs; the bot hashes its command tree at start-up and
syncs when the hash differs from the one remembered here (or when the operator asks).
"""

from __future__ import annotations

from storage import Database

TREE_HASH_STATE = "discord.synced_tree_hash"


class SyncedCommands:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def differs_from(self, tree_hash: str) -> bool:
        return await self.db.app_state.get(TREE_HASH_STATE) != tree_hash

    async def remember(self, tree_hash: str) -> None:
        await self.db.app_state.set(TREE_HASH_STATE, tree_hash)
