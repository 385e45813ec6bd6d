"""`Database`: opens the SQLite file, migrates it, and owns one repository per concern.

Opening locks the database to this process (`storage.lock`), creates it privately
(`storage.files`), migrates it, and chooses the token keys (`storage.keys`), refusing to start
with keys that read none of the stored tokens (and warning when they miss some). Repositories never reach into each other. Where several concerns must change together (linking
stores the member and their token; unlinking forgets what the link brought), `Database`
composes them inside one transaction of the shared SQL handle, which their writes join.
A PostgreSQL implementation would provide the same attributes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from storage.app_state import AppStateRepository
from storage.crypto import TokenCipher
from storage.errors import CannotWrite, StorageError
from storage.files import private_directory, private_file, why_unwritable
from storage.genre_probabilities import GenreProbabilityRepository
from storage.guilds import GuildRepository
from storage.keys import choose_cipher, key_file_for
from storage.leaderboard import LeaderboardRepository
from storage.library import LikedSongRepository, SourceTrackRepository, TrackRepository
from storage.lock import DatabaseLock
from storage.migrations import apply_migrations
from storage.oauth_states import OAuthStateRepository
from storage.playlists import PlaylistRepository
from storage.records import RefreshDm, User
from storage.refresh_dms import RefreshDmRepository
from storage.runs import RunRepository
from storage.schedules import ScheduleRepository
from storage.sort_preferences import SortPreferenceRepository
from storage.sql import SqlHandle, Transaction, refuse_what_is_not_sqlite
from storage.tokens import TokenRepository
from storage.users import UserRepository

log = logging.getLogger(__name__)


def cannot_write(path: Path, error: OSError) -> CannotWrite:
    return CannotWrite(
        f"cannot create or write {path}: {why_unwritable(path, error)}; DATA_DIR (or DATABASE_PATH, or "
        "db --database) must be somewhere the user running genrebot can create and write files"
    )


class KeysReadNoToken(StorageError):
    """The configured keys decrypt none of the stored tokens: almost surely the wrong keys."""


class Database:
    """Owns the SQL handle and exposes one repository per concern."""

    def __init__(self, sql: SqlHandle, cipher: TokenCipher, lock: DatabaseLock | None = None) -> None:
        self.sql = sql
        self._lock = lock
        self.users = UserRepository(sql)
        self.tokens = TokenRepository(sql, cipher)
        self.oauth_states = OAuthStateRepository(sql)
        self.tracks = TrackRepository(sql)
        self.liked = LikedSongRepository(sql)
        self.source_tracks = SourceTrackRepository(sql)
        self.genre_probabilities = GenreProbabilityRepository(sql)
        self.playlists = PlaylistRepository(sql)
        self.schedules = ScheduleRepository(sql)
        self.sort_preferences = SortPreferenceRepository(sql)
        self.guilds = GuildRepository(sql)
        self.runs = RunRepository(sql)
        self.refresh_dms = RefreshDmRepository(sql)
        self.leaderboard = LeaderboardRepository(sql)
        self.app_state = AppStateRepository(sql)

    @classmethod
    async def open(cls, path: Path, *, encryption_keys: Sequence[str] = ()) -> Database:
        """Lock, open (creating it if needed, privately) and migrate the database at `path`.

        Refuses, with one line, when another process has it open, when it holds tokens but
        no key is configured and its key file is missing, or when the keys read none of them.
        """
        path = Path(path)
        try:
            refuse_what_is_not_sqlite(path)  # first: a file that is not SQLite gets nothing beside it
            private_directory(path.parent)
            lock = DatabaseLock.acquire(path)
        except OSError as exc:
            raise cannot_write(path, exc) from None
        try:
            try:
                private_file(path)
            except OSError as exc:
                raise cannot_write(path, exc) from None
            sql = await SqlHandle.connect(path)
            try:
                await apply_migrations(sql)
                stored = await TokenRepository.count_stored(sql)
                db = cls(sql, choose_cipher(encryption_keys, key_file_for(path), stored), lock)
                unreadable = await db.tokens.count_unreadable() if stored else 0
                if stored and unreadable == stored:
                    raise KeysReadNoToken(
                        f"the token encryption key decrypts none of the {stored} stored Spotify token(s) in {path}: "
                        "set TOKEN_ENCRYPTION_KEY to the key they were stored with (new key first, then old ones)"
                    )
                if unreadable:
                    log.warning(
                        "%d of the %d stored Spotify token(s) in %s cannot be decrypted with the configured keys: "
                        "those members are told to /link again. To keep their links, add the key they were stored "
                        "with to TOKEN_ENCRYPTION_KEY (after the first); they are kept until then",
                        unreadable, stored, path,
                    )
            except BaseException:
                await sql.close()
                raise
        except BaseException:
            lock.release()
            raise
        return db

    @property
    def path(self) -> Path:
        return self.sql.path

    async def close(self) -> None:
        await self.sql.close()
        if self._lock is not None:
            self._lock.release()

    async def schema_version(self) -> int:
        return await self.sql.user_version()

    async def backup(self, target: Path) -> None:
        """SQLite's online backup: a consistent copy while the bot keeps writing."""
        await self.sql.backup(target)

    async def recover_interrupted_runs(self) -> tuple[int, int]:
        """At start-up no run can be in progress: a weekly refresh a dead process left running (or
        sorted but left untold) is due again (its schedule had been moved on), then every leftover
        run is marked failed.
        Returns (refreshes due again, runs marked failed)."""
        async with self.sql.transaction():
            rerun = await self.schedules.rerun_interrupted()
            failed = await self.runs.fail_interrupted()
        return rerun, failed

    async def finish_refresh(self, discord_id: int, dms: Sequence[RefreshDm], *, keep: str | None = None) -> None:
        """A weekly refresh ended with these DMs to send: queued, its progress forgotten (but for
        the source `keep`) and the refresh no longer unfinished, together. A process that dies
        before this commits runs the refresh again at its start (`recover_interrupted_runs`);
        one that dies after it sends the DMs then."""
        async with self.sql.transaction():
            await self.refresh_dms.queue(dms)
            await self.schedules.clear_progress(discord_id, keep=keep)
            await self.schedules.finished(discord_id)

    async def end_refresh(self, discord_id: int, dms: Sequence[RefreshDm]) -> None:
        """A weekly refresh ended without finishing (failed, deferred, paused): the DMs saying so
        queued and the refresh no longer unfinished, together; its progress stays for a later try."""
        async with self.sql.transaction():
            await self.refresh_dms.queue(dms)
            await self.schedules.finished(discord_id)

    async def record_refresh_dm(self, dm: RefreshDm, dm_status: str) -> None:
        """What became of a queued DM, on the runs it tells of; it leaves the outbox in the same step."""
        async with self.sql.transaction():
            for run_id in dm.run_ids:
                await self.runs.set_dm_status(run_id, dm_status)
            await self.refresh_dms.remove(dm.id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One transaction that repository writes made inside it join (commit together)."""
        async with self.sql.transaction() as tx:
            yield tx

    async def link_member(
        self,
        discord_id: int,
        spotify_id: str,
        display_name: str,
        scopes: Sequence[str],
        token_info: Mapping[str, Any],
    ) -> User:
        """Store the member and their token together: both or neither.

        Linking a different Spotify account than the member's last one forgets the old account's
        library, sources, playlists, counts and saved choices in the same transaction, so nothing of
        account A leaks into account B and the next read is a full one. SpotifyAccountTaken if
        another member is linked to the account.
        """
        async with self.sql.transaction():
            previous = await self.users.get(discord_id)
            if previous is not None and previous.spotify_id != spotify_id:
                await self._forget_account(discord_id)
            generation = await self.users.link(discord_id, spotify_id, display_name, scopes)
            await self.tokens.save(discord_id, token_info, link_generation=generation)
        user = await self.users.get(discord_id)
        assert user is not None  # committed just above
        return user

    async def unlink_member(self, discord_id: int) -> None:
        """End the link: forget the token, library, sources read, playlists, schedule, memberships, run
        history, weekly refresh DMs not yet sent and the account's display name at once.

        Songs and their genre probabilities are shared by all members and stay; so do the member's own
        preferences (saved sort choices and refresh sources, leaderboard opt-outs), which outlive
        a link (linking a different account drops the account's part, see link_member).
        """
        async with self.sql.transaction():
            await self.tokens.forget(discord_id)
            await self.liked.forget(discord_id)
            await self.source_tracks.forget(discord_id)
            await self.playlists.forget(discord_id)
            await self.schedules.forget(discord_id)
            await self.guilds.forget(discord_id)
            await self.leaderboard.forget(discord_id)
            await self.oauth_states.forget(discord_id)
            await self.runs.forget(discord_id)
            await self.refresh_dms.forget(discord_id)
            await self.users.mark_unlinked(discord_id)

    async def _forget_account(self, discord_id: int) -> None:
        """What belongs to the member's Spotify account rather than to the member: its library,
        the playlist sources read and made, counts, and the choices that name its genres and playlists."""
        await self.liked.forget(discord_id)
        await self.source_tracks.forget(discord_id)
        await self.playlists.forget(discord_id)
        await self.leaderboard.forget(discord_id)
        await self.sort_preferences.forget(discord_id)
        await self.schedules.clear_progress(discord_id)
