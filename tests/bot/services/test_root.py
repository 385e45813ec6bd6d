"""The composition root: what opening the services does to the process."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from bot.services.root import Services
from tests.bot.conftest import World


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
