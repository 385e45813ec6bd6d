"""The composition root: what opening the services does to the process."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from storage import Database
from storage.records import RunStatus
from tests.bot.conftest import World, link_directly

ALICE = 111


async def test_opening_the_services_keeps_the_start_up_heap_out_of_garbage_collections(world: World) -> None:
    """What start-up built (here: the Services class) is frozen, so no collection walks it again."""
    assert world.services.sorting is not None
    assert gc.get_freeze_count() > 0
    assert not any(tracked is Services for tracked in gc.get_objects())


async def test_services_opened_and_closed_again_and_again_leave_each_model_to_be_freed(
    world: World, tmp_path: Path
) -> None:
    """Closed services keep nothing alive: a process that opens them N times holds one model, not N."""
    models = []
    for attempt in range(3):
        settings = world.services.settings.model_copy(update={"data_dir": tmp_path / f"process-{attempt}"})
        services = await Services.open(settings)
        models.append((weakref.ref(services.classifier), weakref.ref(services.classifier.parts.net)))
        await services.close()
    del services
    gc.collect()
    assert [(model(), net()) for model, net in models] == [(None, None)] * 3


async def test_opening_the_services_drops_probabilities_cached_for_other_models(world: World, tmp_path: Path) -> None:
    """A bot started with a new model (or a new build of it) frees what the old one cached, and
    keeps what the model it runs cached."""
    settings = world.services.settings.model_copy(update={"data_dir": tmp_path / "upgraded"})
    services = await Services.open(settings)
    current = services.classifier.answers_version
    await services.db.genre_probabilities.save_many("genre-net-older", {"a" * 22: b"\x00\x3c"})
    await services.db.genre_probabilities.save_many(current, {"b" * 22: b"\x00\x3c"})
    await services.close()
    services = await Services.open(settings)
    try:
        assert await services.db.genre_probabilities.get_many(["a" * 22], "genre-net-older") == {}
        assert await services.db.genre_probabilities.get_many(["b" * 22], current) == {"b" * 22: b"\x00\x3c"}
    finally:
        await services.close()


async def test_closing_stops_a_running_sort_and_records_it_before_the_database_closes(world: World) -> None:
    """A /sort still reading when the bot stops is stopped first: its run says the bot was stopped,
    written while the database was open, instead of staying 'running' for the next start to guess."""
    await link_directly(world.services, ALICE, "alice")
    asked, release = asyncio.Event(), asyncio.Event()

    async def slow_page() -> None:
        asked.set()
        await release.wait()

    world.sandbox.hold_liked_page("alice", 50, slow_page)
    sort = asyncio.create_task(world.services.sorting.sort(ALICE, SortOptions()))
    await asyncio.wait_for(asked.wait(), 30)
    database = world.services.db.path
    try:
        await asyncio.wait_for(world.services.close(), 30)
        assert sort.done()
    finally:
        release.set()  # the reading thread ends whatever happened
    with pytest.raises(asyncio.CancelledError):
        await sort
    db = await Database.open(database, encryption_keys=world.services.settings.encryption_keys)
    try:
        run = (await db.runs.recent(ALICE, limit=1))[0]
    finally:
        await db.close()
    assert (run.status, run.error) == (RunStatus.FAILED, "cancelled (the bot was stopped)")
