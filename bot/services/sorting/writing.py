"""Step 4 of a sort: make each planned playlist in the member's Spotify hold its songs.

What is already in Spotify wins over what is remembered: a playlist in storage is reused while
the member still follows it; otherwise genrebot adopts the member's playlist tagged for that
genre (`bot.spotify.own_playlists`: after a crash, a relink, `/unlink` or a lost database) and
only then makes a new one. A new or adopted playlist is recorded the moment it is known, before
it is filled, and a playlist being written is recorded as "contents unknown" until the write
ends, so a killed process leaves nothing the next sort cannot find or would trust wrongly.

A finished write records the songs it left and Spotify's snapshot id of the playlist then. While
Spotify still gives that snapshot id (nobody has changed the playlist since; one listing of the
member's playlists says it for 50 at a time, see `_usable_records`), the next sort knows what the
playlist holds without reading it, and edits it in place
(`playlist_sync.fill`): songs that left are removed, new ones inserted where they belong, the
others keep their "date added". A playlist whose songs, name and description (its date aside)
would not change is not touched at all. The name and description are set before the songs, so
the snapshot id of the last song write is the playlist's when the write ends. A write of several
requests, or an edit worked out from what the playlist held, is followed by one look at its size:
a member who added or removed songs meanwhile leaves it "contents unknown" (`_checked`).

A genre past Spotify's 10,000 songs continues in parts (`targets`). The playlists a sort no longer
plans are emptied and kept, and an older model's are taken over (`unplanned`). A weekly refresh
that only added songs inserts them at the top (Liked Songs) or the end (a playlist) instead of
rewriting the playlist even when no snapshot id was recorded (playlists written before genrebot
kept them); one where Spotify refuses that insert (the member shortened it by hand, or filled it
to Spotify's 10,000) is written whole. A dry run writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services.playlist_plan import PlaylistPlan
from bot.services.sorting.report import PlaylistOutcome, ReportProgress, SortProgress
from bot.services.sorting.targets import (
    PlaylistTarget,
    outcome_name,
    plan_targets,
    playlist_description,
    record_key,
    source_playlist_name,
)
from bot.services.sorting.unplanned import adoptable_under_current_keys, retired, stale_parts, taken_over
from bot.spotify.client import LIBRARY_CONTAINS_BATCH, PlaylistRef, SpotifyUserClient
from bot.spotify.errors import PlaylistWriteFailed, SpotifyError, SpotifyUnavailable
from bot.spotify.own_playlists import (
    MAX_PLAYLIST_ITEMS,
    OwnPlaylist,
    PlaylistSlot,
    fit_name,
)
from bot.spotify.playlist_edit import ITEMS_PER_REQUEST
from bot.spotify.playlist_sync import (
    STOPS,
    KnownItems,
    append_items,
    create_once,
    describe,
    fill,
    held_items,
    prepend_items,
)
from bot.spotify.retry import SpotifyRefused
from classifier.taxonomy import Taxonomy
from music import LIKED_SONGS, SortSource
from storage import Database
from storage.records import PlaylistRecord

PLAYLIST_WRITE_CONCURRENCY = 4
CONTENTS_UNKNOWN = -1  # track_count of a playlist whose write has not finished
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaylistWriter:
    db: Database
    clock: Callable[[], datetime]
    taxonomy: Taxonomy  # reads the keys of playlists an older model made (`taken_over`)

    async def preview(
        self, discord_id: int, plan: PlaylistPlan, new_ids: set[str], source: SortSource = LIKED_SONGS
    ) -> list[PlaylistOutcome]:
        """What `write` would do, touching nothing (a dry run)."""
        existing = await self.db.playlists.get_all(discord_id, source.key)
        moves = taken_over(plan, existing, self.taxonomy)
        existing = {moves.get(key, key): record for key, record in existing.items()}
        outcomes = []
        for target in plan_targets(plan, new_ids, source.key):
            record = existing.get(record_key(target.slot))
            outcomes.append(
                PlaylistOutcome(
                    target.slot.key,
                    outcome_name(target, source),
                    record.playlist_id if record else None,
                    record.url if record else None,
                    len(target.ids),
                    target.new_count,
                    created=False,
                    label=target.label,
                )
            )
        for target in retired(plan, existing, self.taxonomy, source):
            record = existing[record_key(target.slot)]
            if record.track_count != 0:
                outcomes.append(PlaylistOutcome(target.slot.key, outcome_name(target, source), record.playlist_id,
                                                record.url, 0, 0, created=False, label=target.label, emptied=True))
        return outcomes

    async def write(
        self,
        discord_id: int,
        client: SpotifyUserClient,
        plan: PlaylistPlan,
        new_ids: set[str],
        *,
        incremental: bool,
        report_progress: ReportProgress,
        source: SortSource = LIKED_SONGS,
        own_playlists: Awaitable[dict[str, OwnPlaylist]] | None = None,
        emptied_earlier: Collection[str] = (),
    ) -> list[PlaylistOutcome]:
        """Write every planned playlist of `source`, a few at a time, and empty the ones it no longer
        needs (`stale_parts`, `retired`); the first failure is raised after all ran. Returns the
        planned playlists, then those this run emptied of songs (`PlaylistOutcome.emptied`).
        `own_playlists`: the member's tagged playlists, if already being asked for; `emptied_earlier`:
        playlists a cut-off try of the same weekly refresh emptied, reported emptied although empty."""
        existing = await self.db.playlists.get_all(discord_id, source.key)
        moves = taken_over(plan, existing, self.taxonomy)
        if moves:  # before Spotify is touched: a run killed after it finds them under their new keys
            await self.db.playlists.move_keys(discord_id, source.key, moves)
            existing = await self.db.playlists.get_all(discord_id, source.key)
        targets = plan_targets(plan, new_ids, source.key)
        unneeded = [*stale_parts(plan, targets, existing), *retired(plan, existing, self.taxonomy, source)]
        followed = await self._usable_records(client, existing, [*targets, *unneeded])
        usable = followed.records
        # Never made or adopted only to stay empty: one the member deleted stays deleted.
        emptying = [t for t in unneeded if t.slot in usable]
        held_songs = {
            t.slot for t in emptying if t.empty_because and (
                existing[record_key(t.slot)].track_count != 0 or existing[record_key(t.slot)].playlist_id in emptied_earlier
            )
        }
        adoptable = await self._adoptable(client, [*targets, *emptying], usable, own_playlists)
        today = self.clock().strftime("%Y-%m-%d")
        slots = asyncio.Semaphore(PLAYLIST_WRITE_CONCURRENCY)
        total = len(targets) + len(emptying)
        written = 0
        report_progress(SortProgress("writing", 0, total))

        async def write_one(target: PlaylistTarget) -> PlaylistOutcome:
            nonlocal written
            async with slots:
                name, description = source_playlist_name(target.label, source), _description(target, source, today)
                ref, created = await self._playlist_for(
                    discord_id, client, target.slot, usable, adoptable, name, description
                )
                record = usable.get(target.slot)
                known = _known_items(record)
                details = details_digest(outcome_name(target, source), _description(target, source, ""))
                # Liked Songs gain songs at the top, playlists usually at the end: without a known
                # snapshot (a record from before genrebot kept them), add just those.
                at_end = not source.is_liked_songs
                added = _new_songs_only(record, target, new_ids, at_end=at_end) if incremental and not known else None
                if not created:  # a new playlist was recorded the moment it existed
                    await self._record(discord_id, target.slot, ref, CONTENTS_UNKNOWN)
                songs = _Songs(known, record, added, at_end, followed.snapshots.get(ref.id))
                try:
                    done = await asyncio.to_thread(
                        self._fill, client, target, ref, created, songs, name, description, details
                    )
                except SpotifyUnavailable as exc:
                    # The other playlists are written meanwhile: this one may be left as it was (or
                    # half-done), which the member is told by name; the next sort finishes it.
                    raise PlaylistWriteFailed(name, restored=False, playlist_id=ref.id, url=ref.url) from exc
                if done.holds_plan:  # else it stays "contents unknown": the next sort reads it
                    await self._record(discord_id, target.slot, ref, len(target.ids), tracks_digest(target.ids),
                                       snapshot=done.snapshot, track_ids=tuple(target.ids), details=details)
            written += 1
            report_progress(SortProgress("writing", written, total))
            return PlaylistOutcome(
                target.slot.key, outcome_name(target, source), ref.id, ref.url, len(target.ids),
                target.new_count, created, target.label, emptied=target.empty_because is not None,
            )

        results = await asyncio.gather(*(write_one(t) for t in [*targets, *emptying]), return_exceptions=True)
        failures = [
            (source_playlist_name(t.label, source), r)
            for t, r in zip([*targets, *emptying], results, strict=True) if isinstance(r, BaseException)
        ]
        if failures:
            raise _write_failure(failures, up_to_date=sum(isinstance(r, PlaylistOutcome) for r in results))
        # A continuation part is its genre's business, and a playlist already empty is no news.
        return [
            r for i, (r, t) in enumerate(zip(results, [*targets, *emptying], strict=True))
            if isinstance(r, PlaylistOutcome) and (i < len(targets) or t.slot in held_songs)
        ]

    async def _usable_records(
        self, client: SpotifyUserClient, existing: dict[str, PlaylistRecord], targets: Sequence[PlaylistTarget]
    ) -> _Followed:
        """The remembered playlists of these slots that the member still follows, and Spotify's
        snapshot ids of them when listing the member's library (50 playlists a request) costs no
        more than asking about them one by one: a /me/library/contains per 40, and a snapshot
        look-up per playlist whose songs are recorded. One missing from the list (a listing can
        skip one when the member removes a playlist meanwhile) is still asked about."""
        remembered = {t.slot: existing[record_key(t.slot)] for t in targets if record_key(t.slot) in existing}
        if not remembered:
            return _Followed({}, {})
        ids = [r.playlist_id for r in remembered.values()]
        recorded_songs = sum(1 for r in remembered.values() if _known_items(r))
        snapshots: dict[str, str] = {}
        if recorded_songs:
            one_by_one = math.ceil(len(set(ids)) / LIBRARY_CONTAINS_BATCH) + recorded_songs
            listed = await asyncio.to_thread(client.library_playlists, one_by_one)
            snapshots = {p.id: p.snapshot_id for p in listed or [] if p.id in ids and p.snapshot_id}
        unlisted = [i for i in ids if i not in snapshots]
        followed = set(snapshots) | (await asyncio.to_thread(client.followed_playlists, unlisted) if unlisted else set())
        return _Followed({slot: r for slot, r in remembered.items() if r.playlist_id in followed}, snapshots)

    async def _adoptable(
        self, client: SpotifyUserClient, targets: Sequence[PlaylistTarget], usable: dict[PlaylistSlot, PlaylistRecord],
        own_playlists: Awaitable[dict[str, OwnPlaylist]] | None = None,
    ) -> dict[str, OwnPlaylist]:
        """The member's own tagged playlists by tag (an older model's also under its current key),
        read only when some slot has no usable record."""
        if all(t.slot in usable for t in targets):
            return {}
        own = await own_playlists if own_playlists is not None else await asyncio.to_thread(client.own_playlists)
        return adoptable_under_current_keys(own, self.taxonomy)

    async def _playlist_for(
        self,
        discord_id: int,
        client: SpotifyUserClient,
        slot: PlaylistSlot,
        usable: dict[PlaylistSlot, PlaylistRecord],
        adoptable: dict[str, OwnPlaylist],
        name: str,
        description: str,
    ) -> tuple[PlaylistRef, bool]:
        """The slot's playlist (remembered, adopted, or made now and recorded at once); True if made."""
        record = usable.get(slot)
        if record is not None:
            return PlaylistRef(record.playlist_id, record.url), False
        adopted = adoptable.get(slot.tag)
        if adopted is not None:
            return PlaylistRef(adopted.id, adopted.url), False
        ref = await asyncio.to_thread(create_once, client, slot, name, description)
        await self._record(discord_id, slot, ref, CONTENTS_UNKNOWN)
        return ref, True

    def _fill(
        self,
        client: SpotifyUserClient,
        target: PlaylistTarget,
        ref: PlaylistRef,
        created: bool,
        songs: _Songs,
        name: str,
        description: str,
        details: str,
    ) -> _Written:
        """The blocking part (runs in a thread): the name and tagged description, then the songs.
        Returns the playlist's snapshot id once written (None if Spotify would not say), and
        whether it may be taken to hold the plan (`_checked`)."""
        uris = [_uri(t) for t in target.ids]
        if created:  # its name and description were set when it was made
            return _Written(fill(client, ref.id, uris, name=fit_name(name, target.slot.part), url=ref.url, empty=True)
                            or _snapshot_now(client, ref.id))
        held = None
        if songs.known and songs.listed_snapshot is not None:  # the library listing said it
            held = list(songs.known.uris) if songs.listed_snapshot == songs.known.snapshot_id else None
        elif songs.known:
            held = held_items(client, ref.id, songs.known)
        if songs.known and held == uris and songs.record and songs.record.details_digest == details:
            return _Written(songs.known.snapshot_id)  # nothing would change: left as it is, snapshot and all
        describe(client, ref.id, target.slot, name, description)
        if songs.added is not None:
            try:
                if songs.at_end:
                    snapshot = append_items(client, ref.id, songs.added, at=len(target.ids) - len(songs.added))
                else:
                    snapshot = prepend_items(client, ref.id, songs.added)
            except SpotifyRefused:
                # The playlist is not what the record says: its end is not where the record puts it
                # (403 "Index out of bounds": the member removed songs by hand), or the songs the
                # member added by hand leave no room under Spotify's 10,000 (400 "Playlist size
                # limit reached"). Spotify adds nothing of a refused request; the playlist is written whole.
                snapshot = fill(client, ref.id, uris, name=fit_name(name, target.slot.part), url=ref.url)
        else:
            snapshot = fill(client, ref.id, uris, name=fit_name(name, target.slot.part), url=ref.url, held=held)
        if songs.added is None and held is None and len(uris) <= ITEMS_PER_REQUEST:
            return _Written(snapshot or _snapshot_now(client, ref.id))  # one PUT of every song: exact
        return _checked(client, ref.id, snapshot, len(uris))

    async def _record(
        self, discord_id: int, slot: PlaylistSlot, ref: PlaylistRef, track_count: int, digest: str | None = None,
        *, snapshot: str | None = None, track_ids: tuple[str, ...] | None = None, details: str | None = None,
    ) -> None:
        await self.db.playlists.upsert(
            PlaylistRecord(discord_id, record_key(slot), ref.id, ref.url, track_count, self.clock(), slot.source,
                           digest, snapshot, track_ids if snapshot else None, details if snapshot else None)
        )


@dataclass(frozen=True)
class _Songs:
    """What one playlist's write knows before it starts: its recorded songs and snapshot (if any),
    its record, and the new songs alone when only they need adding (`_new_songs_only`)."""

    known: KnownItems | None
    record: PlaylistRecord | None
    added: list[str] | None
    at_end: bool
    listed_snapshot: str | None = None  # its snapshot id as the member's library listing showed it


@dataclass(frozen=True)
class _Written:
    """What one playlist's write left: Spotify's snapshot id after it, and False in `holds_plan`
    when someone else changed the songs while genrebot wrote them (the record stays "contents unknown")."""

    snapshot: str | None
    holds_plan: bool = True


def _write_failure(failures: Sequence[tuple[str, BaseException]], *, up_to_date: int) -> BaseException:
    """The error a write with failed playlists ends in: the first failure, unless Spotify stopped
    answering after some playlist was written (or half-written). Then a bare SpotifyUnavailable would
    tell the member "nothing was changed", so it is a PlaylistWriteFailed naming every playlist left
    behind and counting the others, caused by the outage (a weekly refresh still tries again)."""
    first = failures[0][1]
    if not all(isinstance(error, SpotifyUnavailable | PlaylistWriteFailed) for _, error in failures):
        return first
    half_written = [error for _, error in failures if isinstance(error, PlaylistWriteFailed)]
    if not up_to_date and not half_written:
        return first  # Spotify took none of this sort's writes
    lead = half_written[0] if half_written else None
    name = lead.name if lead is not None else failures[0][0]
    error = PlaylistWriteFailed(
        name, restored=lead.restored if lead is not None and len(failures) == 1 else False,
        playlist_id=lead.playlist_id if lead is not None else None, url=lead.url if lead is not None else None,
        others=tuple(n for n, e in failures if e is not lead and n != name), up_to_date=up_to_date,
    )
    error.__cause__ = lead.__cause__ if lead is not None else first
    return error


@dataclass(frozen=True)
class _Followed:
    records: dict[PlaylistSlot, PlaylistRecord]  # remembered playlists the member still follows
    snapshots: dict[str, str]  # playlist id -> snapshot id, for those the library listing showed


def _known_items(record: PlaylistRecord | None) -> KnownItems | None:
    """The songs the record says genrebot's last finished write left, with that write's snapshot id."""
    if record is None or record.track_count < 0 or not record.snapshot_id or record.track_ids is None:
        return None
    return KnownItems(record.snapshot_id, tuple(_uri(t) for t in record.track_ids))


def _snapshot_now(client: SpotifyUserClient, playlist_id: str) -> str | None:
    """The snapshot id after a write whose last answer did not say it (none made, or it was lost).
    The songs are written: failing to learn it only means the next sort reads the playlist."""
    try:
        return client.playlist_snapshot_id(playlist_id)
    except STOPS:
        raise
    except SpotifyError:
        return None


def _checked(client: SpotifyUserClient, playlist_id: str, snapshot: str | None, songs: int) -> _Written:
    """A write of several requests, or of inserts at positions worked out from what the playlist
    held, has been made: whether the playlist holds `songs` entries, as the plan does.

    Spotify applies each request to the playlist as it is when it arrives, and no add can be made
    conditional on a snapshot id. A member (or a collaborator) who adds or removes songs between
    genrebot's look at the playlist and its last write leaves a playlist that is not the plan, under
    the snapshot id of genrebot's own last write; recorded as the plan, the next sorts would trust it
    and never put it right. One request (its snapshot id and size) tells; a playlist of another size,
    or one Spotify would not describe, stays "contents unknown" and the next sort reads it.
    (A song moved meanwhile changes no size: that the next sort sees only when something else changes.)"""
    try:
        now, total = client.playlist_version(playlist_id)
    except STOPS:
        raise
    except SpotifyError:
        return _Written(None, holds_plan=False)
    if total != songs:
        log.info("playlist %s changed while it was written (%d songs, %d planned)", playlist_id, total, songs)
        return _Written(None, holds_plan=False)
    return _Written(snapshot or now)


def details_digest(name: str, undated_description: str) -> str:
    """What a playlist's name and description come to, the date in the description aside."""
    return hashlib.sha256(f"{name}\n{undated_description}".encode()).hexdigest()[:16]


def _description(target: PlaylistTarget, source: SortSource, today: str) -> str:
    if target.empty_because is not None:
        return target.empty_because(today)
    part = f" Part {target.slot.part}." if target.slot.part > 1 else ""
    return playlist_description(target.label, source, len(target.ids), today) + part


def _new_songs_only(
    record: PlaylistRecord | None, target: PlaylistTarget, new_ids: set[str], *, at_end: bool
) -> list[str] | None:
    """The new songs alone, when the playlist already holds exactly the rest.

    New liked songs are the newest, so they lead the list; songs added to a playlist source
    usually follow the rest. If the new songs sit at that edge and the stored playlist holds the
    others (the same songs in the same order as its last finished write: its `tracks_digest`),
    adding just them gives the full list. Otherwise (songs removed or added in the middle, moved
    to another family or genre since (pooling decides a library's songs together), a
    continuation part, a playlist that would pass 10,000), None: the playlist is rewritten.
    """
    ids = target.ids
    fresh = [t for t in ids if t in new_ids]
    if record is None or target.slot.part > 1 or len(ids) >= MAX_PLAYLIST_ITEMS:
        return None
    edge = ids[len(ids) - len(fresh) :] if at_end else ids[: len(fresh)]
    rest = [t for t in ids if t not in new_ids]
    if edge != fresh or record.track_count != len(rest) or record.tracks_digest != tracks_digest(rest):
        return None
    return [_uri(t) for t in fresh]


def tracks_digest(track_ids: Sequence[str]) -> str:
    """What a playlist's songs, in order, come to: equal digests, equal lists."""
    return hashlib.sha256("\n".join(track_ids).encode()).hexdigest()[:32]


def _uri(track_id: str) -> str:
    return f"spotify:track:{track_id}"
