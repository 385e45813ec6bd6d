"""The composition root: what opening the services does to the process."""

from __future__ import annotations

import gc

from bot.services.root import Services
from tests.bot.conftest import World


async def test_opening_the_services_keeps_the_start_up_heap_out_of_garbage_collections(world: World) -> None:
    """What start-up built (here: the Services class) is frozen, so no collection walks it again."""
    assert world.services.sorting is not None
    assert gc.get_freeze_count() > 0
    assert not any(tracked is Services for tracked in gc.get_objects())
