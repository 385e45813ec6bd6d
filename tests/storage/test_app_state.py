"""App facts that survive restarts."""

from __future__ import annotations

from storage import Database


async def test_an_app_fact_is_kept_and_can_be_overwritten(db: Database) -> None:
    """set then get returns the latest value; an unknown key is None."""
    assert await db.app_state.get("spotify.audio_features") is None
    await db.app_state.set("spotify.audio_features", "unavailable")
    await db.app_state.set("spotify.audio_features", "available")
    assert await db.app_state.get("spotify.audio_features") == "available"
