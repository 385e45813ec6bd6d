"""Linking a member's Spotify account, the tokens kept for it, and forgetting it again."""

from __future__ import annotations

import asyncio
import html
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.services.errors import LinkEnded, LinkUnreadable, NotLinked
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.sorting import SortProgress, SortReport
from bot.spotify.errors import AppCredentialsRejected, NeedsRelink, SpotifyUnavailable
from bot.spotify.retry import RetryPolicy
from sandbox.browser import approve
from sandbox.faults import FaultAction
from storage.records import LinkStatus, RunStatus
from tests.bot.conftest import ALICE_SONGS, CLIENT_ID, World

ALICE = 111


async def test_linking_through_the_consent_page_stores_an_encrypted_token(world: World) -> None:
    """The consent page's redirect links the member with their stable Spotify account id."""
    page = await world.link(ALICE, "alice")
    assert page.status == 200 and "<strong>Alice</strong>" in page.text
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["alice"].account_id
    assert (await world.services.db.tokens.load(ALICE) or {}).get("refresh_token")
    stored = await world.services.db.sql.fetchone("SELECT ciphertext FROM tokens WHERE discord_id = ?", (ALICE,))
    assert stored is not None and b"refresh_token" not in bytes(stored["ciphertext"])


async def test_expired_access_token_is_refreshed_and_saved(world: World) -> None:
    """spotipy refreshes an expired token during a sort; the new token is stored afterwards."""
    await world.link(ALICE, "alice")
    old = (await world.services.db.tokens.load(ALICE) or {})["access_token"]
    world.sandbox.expire_access_tokens()
    await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    assert (await world.services.db.tokens.load(ALICE) or {})["access_token"] != old


async def test_revoked_authorisation_marks_the_member_needs_relink(world: World) -> None:
    """A refresh answered invalid_grant fails the run and marks the member; linking again heals it."""
    await world.link(ALICE, "alice")
    world.sandbox.revoke_refresh_tokens("alice")
    with pytest.raises(NeedsRelink):
        await world.services.sorting.sort(ALICE, SortOptions())
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    assert (await world.services.sorting.recent_runs(ALICE))[0].status == RunStatus.FAILED
    await world.link(ALICE, "alice")
    assert (await world.services.sorting.sort(ALICE, SortOptions())).total_songs == ALICE_SONGS


async def test_a_token_refresh_whose_connection_drops_or_answer_breaks_off_still_sorts(world: World) -> None:
    """The refresh a sort needs meets a dropped connection, then an answer broken off: it is made again
    with the refresh token kept, the sort finishes, and the member stays linked."""
    await world.link(ALICE, "alice")
    before = await world.services.db.tokens.load(ALICE) or {}
    world.sandbox.expire_access_tokens()
    world.sandbox.inject("drop", method="POST", path_prefix="/api/token")
    world.sandbox.inject("cut", method="POST", path_prefix="/api/token")
    assert (await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS
    after = await world.services.db.tokens.load(ALICE) or {}
    assert after["refresh_token"] == before["refresh_token"] and after["access_token"] != before["access_token"]
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_a_token_endpoint_answering_5xx_never_asks_the_member_to_link_again(world: World) -> None:
    """Spotify's accounts service answers 503 to every refresh: the sort fails as Spotify being
    unavailable, and the member's link is left as it was, not marked as needing a new link."""
    world.services.spotify_app.policy = RetryPolicy(sleep=lambda s: None)  # its backoffs are not the point
    await world.link(ALICE, "alice")
    world.sandbox.expire_access_tokens()
    world.sandbox.inject(503, 50, method="POST", path_prefix="/api/token")
    with pytest.raises(SpotifyUnavailable):
        await world.services.sorting.sort(ALICE, SortOptions())
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_unlink_forgets_the_member(world: World) -> None:
    """Unlinking deletes the tokens and the playlist list; a later sort is told to link."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions())
    assert await world.services.linking.unlink(ALICE)
    assert await world.services.db.tokens.load(ALICE) is None
    assert await world.services.db.playlists.get_all(ALICE) == {}
    with pytest.raises(NotLinked):
        await world.services.sorting.sort(ALICE, SortOptions())


# What /unlink keeps: the member's own choices, which outlive a link (saved sort options and weekly
# sources, leaderboard opt-outs), and the users row (its link generation and account id; no name).
KEPT_OVER_UNLINK = {"users", "sort_preferences", "sort_preference_genres", "refresh_sources", "leaderboard_opt_outs"}


async def test_unlink_leaves_no_row_of_the_member_but_their_own_choices(world: World) -> None:
    """After a sort, a schedule and a server membership, /unlink leaves nothing keyed to the member in any table."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions())
    await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="UTC")
    db = world.services.db
    await db.guilds.add_member(10, ALICE)
    assert await world.services.linking.unlink(ALICE)
    tables = [row["name"] for row in await db.sql.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    left = {}
    for table in set(tables) - KEPT_OVER_UNLINK:
        rows = [dict(row) for row in await db.sql.fetchall(f"SELECT * FROM {table}")]  # noqa: S608 - names from SQLite
        # A member's row: their discord_id, or (app_state) a key naming them ('...full_read.111').
        mine = [r for r in rows if r.get("discord_id") == ALICE or re.search(rf"[.:]{ALICE}$", str(r.get("key")))]
        if mine:
            left[table] = mine
    assert left == {}, f"rows of the unlinked member remain: {left}"


async def test_linking_a_second_spotify_account_does_not_leak_the_first_ones_library(world: World) -> None:
    """After relinking from Alice's account to Bob's, a weekly (incremental) sort fills Bob's playlists with Bob's songs only."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    await world.link(ALICE, "bob")
    report = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1), incremental=True)
    bobs_songs = {track.uri for track, _ in world.sandbox.users["bob"].liked}
    assert report.total_songs == len(bobs_songs)
    for outcome in report.playlists:
        assert outcome.playlist_id is not None  # not a dry run: every playlist exists
        playlist = world.sandbox.playlists[outcome.playlist_id]
        assert playlist.owner_id == "bob"
        assert {uri for uri, _ in playlist.items} <= bobs_songs


async def test_a_spotify_account_linked_by_another_member_is_refused_with_a_clear_page(world: World) -> None:
    """A second Discord member approving an account already linked is told so; the first keeps the link."""
    await world.link(ALICE, "alice")
    response = await world.link(ALICE + 1, "alice")
    assert response.status == 400 and "already linked to another Discord member" in response.text
    assert await world.services.linking.member(ALICE + 1) is None
    first = await world.services.linking.member(ALICE)
    assert first is not None and first.status == LinkStatus.LINKED


async def test_a_token_refreshed_while_the_member_unlinks_does_not_link_them_again(world: World) -> None:
    """A Spotify call that refreshed the token and ends after /unlink leaves no token behind."""
    await world.link(ALICE, "alice")
    world.sandbox.expire_access_tokens()
    async with world.services.linking.client(ALICE) as client:
        await asyncio.to_thread(client.profile)  # spotipy refreshes the token here
        await world.services.linking.unlink(ALICE)
    assert await world.services.db.tokens.load(ALICE) is None
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.UNLINKED


async def test_a_token_refreshed_for_an_old_link_does_not_replace_a_relinks_token(world: World) -> None:
    """A call under the old link that ends after a relink keeps the relink's token."""
    await world.link(ALICE, "alice")
    world.sandbox.expire_access_tokens()
    async with world.services.linking.client(ALICE) as client:
        await asyncio.to_thread(client.profile)
        await world.link(ALICE, "alice")
        relinked = await world.services.db.tokens.load(ALICE)
    assert await world.services.db.tokens.load(ALICE) == relinked


@asynccontextmanager
async def sort_held_at_classifying(world: World) -> AsyncIterator[asyncio.Task[SortReport]]:
    """A sort of Alice's Liked Songs, started and held once her library is read (it waits for the
    classify pool, every worker of which is kept busy), and let go when the block ends: a sort
    caught mid-way, waited on as an event."""
    release = threading.Event()
    pool = world.services.sorting.library_classifier.classify_pool
    blockers = [pool.submit(release.wait) for _ in range(world.services.settings.classify_concurrency)]
    classifying = asyncio.Event()

    async def note_stage(progress: SortProgress) -> None:
        if progress.stage == "classifying":
            classifying.set()

    sort = asyncio.create_task(
        world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1), progress=note_stage)
    )
    try:
        await classifying.wait()
        yield sort
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=60)


async def test_unlink_during_a_sort_stops_the_sort_and_stays_unlinked(world: World) -> None:
    """/unlink while a sort runs cancels the sort and waits for it: none of its writes land afterwards,
    its run included (unlink forgets the run history)."""
    await world.link(ALICE, "alice")
    async with sort_held_at_classifying(world) as sort:
        assert await world.services.linking.unlink(ALICE)
    with pytest.raises(LinkEnded):
        await sort
    assert await world.services.sorting.recent_runs(ALICE) == []
    assert await world.services.db.tokens.load(ALICE) is None
    assert await world.services.db.playlists.get_all(ALICE) == {}
    assert await world.services.db.liked.count(ALICE) == 0
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.UNLINKED


async def reopen(world: World, keys: list[str]) -> Services:
    """Restart the services on the same database with TOKEN_ENCRYPTION_KEY set to `keys`."""
    await world.services.close()
    settings = world.services.settings.model_copy(update={"token_encryption_key": SecretStr(",".join(keys))})
    world.services = await Services.open(settings, clock=world.clock)
    return world.services


async def test_a_token_that_only_failed_to_decrypt_does_not_mark_the_member_for_relinking(world: World) -> None:
    """Under a key that misses Alice's token she is told the bot cannot read her link (its setup, not Spotify)
    and that /link mends it now, but she is not marked for relinking: once the key is back she sorts."""
    first_key = world.services.settings.encryption_keys[0]
    await world.link(ALICE, "alice")
    second_key = Fernet.generate_key().decode()
    services = await reopen(world, [second_key, first_key])
    await services.db.link_member(ALICE + 1, "other-account", "Other", [], {"access_token": "x"})
    services = await reopen(world, [second_key])  # the first key is missing
    with pytest.raises(LinkUnreadable) as unreadable:
        await services.sorting.sort(ALICE, SortOptions(dry_run=True))
    assert "bot's side" in str(unreadable.value) and "/link" in str(unreadable.value)
    assert "Spotify needs" not in str(unreadable.value)
    user = await services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED
    services = await reopen(world, [second_key, first_key])  # the key is back
    try:
        assert (await services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS
    finally:
        await services.close()  # the fixture closes only the services it opened
async def test_a_token_from_before_new_scopes_asks_the_member_to_link_again(world: World) -> None:
    """A stored token lacking a scope this release needs marks the member "needs relink", never prompts."""
    await world.link(ALICE, "alice")
    stored = await world.services.db.tokens.load_for_link(ALICE)
    assert stored is not None
    older = await older_releases_token(world, "alice")
    assert await world.services.db.tokens.save(ALICE, older, link_generation=stored.link_generation)
    with pytest.raises(NeedsRelink):
        await world.services.sorting.sort(ALICE, SortOptions())
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    await world.link(ALICE, "alice")
    assert (await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS


async def older_releases_token(world: World, spotify_user: str) -> dict[str, Any]:
    """The token an older genrebot stored: approved on the consent page for fewer scopes."""
    app = world.services.spotify_app
    app.scopes = ("user-library-read", "playlist-modify-private")  # shadows this release's SCOPES
    try:
        url = app.authorize_url("older-release") + f"&sandbox_user={spotify_user}"
        async with aiohttp.ClientSession() as session:
            redirect = await approve(session, url, follow=False)  # the consent page is always shown
            code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
        return await asyncio.to_thread(app.exchange_code, code)
    finally:
        del app.scopes


async def test_linking_another_account_during_a_sort_stops_the_sort_and_keeps_nothing_of_the_old_account(
    world: World,
) -> None:
    """Relinking to Bob's account while a sort of Alice's runs stops that sort: none of Alice's songs,
    counts or playlists are recorded for the member after Bob's link, and /status says why it stopped."""
    await world.link(ALICE, "alice")
    async with sort_held_at_classifying(world) as sort:
        page = await world.link(ALICE, "bob")
        assert page.status == 200
    with pytest.raises(LinkEnded):
        await sort
    db = world.services.db
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["bob"].account_id
    assert await db.liked.count(ALICE) == 0
    assert await db.playlists.get_all(ALICE) == {}
    version = world.services.sorting.classifier.version
    assert await db.leaderboard.member_counts(ALICE, version) == {}
    assert not [p for p in world.sandbox.playlists.values() if p.owner_id == "alice"]
    [run] = await world.services.sorting.recent_runs(ALICE)  # /status says why, not a class name
    assert run.error is not None and run.error.startswith("Your Spotify link changed while this was running")


async def test_work_starting_under_a_link_as_it_is_unlinked_is_stopped_too(world: World) -> None:
    """A Spotify client being handed out at the moment /unlink runs is stopped with the rest: no
    work holds the member's token after unlink returns."""
    await world.link(ALICE, "alice")

    async def use_the_link() -> None:
        async with world.services.linking.client(ALICE):
            await asyncio.Event().wait()  # a long sort; only cancelling ends it

    work = asyncio.create_task(use_the_link())  # starts asking for the token as unlink starts
    assert await world.services.linking.unlink(ALICE)
    assert work.done(), "work under the link outlived /unlink"
    outcome = (await asyncio.gather(work, return_exceptions=True))[0]
    assert isinstance(outcome, NotLinked | asyncio.CancelledError)


async def test_a_link_refused_because_the_owners_premium_lapsed_says_so(world: World) -> None:
    """When Spotify refuses the app itself (its owner's Premium lapsed), the link page says that,
    not that the member's code may have expired: running /link again cannot help them."""
    world.sandbox.owner_premium = False
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "Premium" in page.text and "expired" not in page.text
    assert await world.services.linking.member(ALICE) is None


async def test_a_link_by_a_spotify_user_the_owner_has_not_listed_says_to_ask_the_owner(world: World) -> None:
    """Spotify refuses every call for a user the development-mode app's owner has not listed (in
    its 2026 wording, as plain text): the link page says to ask the bot owner to add them."""
    world.sandbox.users["alice"].registered = False
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "Ask the bot owner to add you" in page.text and "expired" not in page.text
    assert await world.services.linking.member(ALICE) is None


async def test_a_link_refused_for_the_apps_secret_is_the_owners_configuration_error(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """The app's secret reset in Spotify's dashboard while the bot runs: the code exchange is refused
    400 invalid_client "Invalid client secret". The member is told the bot's setup is wrong and to tell
    the server owner (not that the code expired); the log names SPOTIFY_CLIENT_SECRET for the operator."""
    world.sandbox.apps[CLIENT_ID] = "a-secret-reset-in-the-dashboard"
    with caplog.at_level("ERROR", logger="bot.services.linking"):
        page = await world.link(ALICE, "alice")
    assert page.status == 400
    text = html.unescape(page.text)
    assert "The bot's setup is wrong" in text and "tell the server owner" in text and "expired" not in text
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        f"configuration error: link for member {ALICE} failed: Spotify refused SPOTIFY_CLIENT_SECRET "
        "(invalid_client: Invalid client secret): copy the Client ID and Client Secret from the app's page in "
        "the Spotify Developer Dashboard"]
    assert await world.services.linking.member(ALICE) is None


async def test_a_token_refresh_refused_for_the_apps_secret_is_logged_as_the_owners_configuration_error(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """The app's secret reset in Spotify's dashboard after Alice linked: her next sort's token refresh is
    refused 400 invalid_client. The member is told to tell the server owner, so the log must tell the
    owner what to fix (an ERROR line naming SPOTIFY_CLIENT_SECRET), and her link is left as it is."""
    await world.link(ALICE, "alice")
    world.sandbox.apps[CLIENT_ID] = "a-secret-reset-in-the-dashboard"
    world.sandbox.expire_access_tokens()
    with caplog.at_level("ERROR", logger="bot.services.linking"), pytest.raises(AppCredentialsRejected):
        await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    assert [r.getMessage() for r in caplog.records if r.name == "bot.services.linking"] == [
        f"configuration error: Spotify refused to refresh member {ALICE}'s token: Spotify refused "
        "SPOTIFY_CLIENT_SECRET (invalid_client: Invalid client secret): copy the Client ID and Client Secret "
        "from the app's page in the Spotify Developer Dashboard"]
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_a_link_met_by_spotifys_quota_says_when_to_try_again(world: World) -> None:
    """When the app's Spotify quota is spent, the link page says Spotify is refusing the bot for now,
    not that the member's code may have expired."""
    world.sandbox.exceed_quota(3_600)
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "quota" in page.text and "expired" not in page.text
    assert await world.services.linking.member(ALICE) is None


@pytest.mark.parametrize("fault", ["cut", "garbled"], ids=["broken-off", "unreadable"])
async def test_a_link_whose_token_answer_is_lost_says_spotify_did_not_answer(world: World, fault: FaultAction) -> None:
    """Spotify makes the tokens but its answer breaks off, or comes back 200 cut short under its length:
    the code, good for one exchange, is not sent again to be refused, and the link page says Spotify did
    not answer, not that the code may have expired (nor an internal error)."""
    world.sandbox.inject(fault, method="POST", path_prefix="/api/token", after_processing=True)
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "answering right now" in page.text and "expired" not in page.text
    assert world.sandbox.count("POST", path_prefix="/api/token") == 1
    assert await world.services.linking.member(ALICE) is None


async def test_a_refused_link_to_another_members_account_leaves_a_running_sort_alone(world: World) -> None:
    """Approving an account another member has linked is refused, and since nothing changed, Alice's
    running sort goes on to the end."""
    await world.link(ALICE, "alice")
    await world.link(ALICE + 1, "bob")
    async with sort_held_at_classifying(world) as sort:
        page = await world.link(ALICE, "bob")
        assert page.status == 400 and "already linked to another Discord member" in page.text
    report = await sort
    assert report.total_songs == ALICE_SONGS and report.playlists
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.spotify_id == world.sandbox.users["alice"].account_id
