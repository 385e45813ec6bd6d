"""What the accounts service's token answers can say, and what linking makes of it: a missing or odd
`expires_in`, fewer scopes granted than asked, a 5xx to a code exchange that may have used the code."""

from __future__ import annotations

import time

import pytest

from bot.services.linking import link_problem
from bot.services.playlist_plan import SortOptions
from bot.spotify.errors import NeedsRelink, ScopesMissing
from bot.spotify.retry import RetryPolicy
from sandbox.tokens import OMITTED
from storage.records import LinkStatus
from tests.bot.conftest import ALICE_SONGS, World

ALICE = 111


@pytest.mark.parametrize(
    "expires_in", [OMITTED, 0, -3600, "3600", "an hour", 10**12, float("inf")],
    ids=["missing", "zero", "negative", "string", "words", "absurd", "infinite"],
)
async def test_a_token_answer_with_an_odd_expires_in_links_and_refreshes_when_due(world: World, expires_in: object) -> None:
    """Spotify's token answers (the code exchange and every refresh) carry an `expires_in` that is missing,
    not positive, text or absurd: the member is linked all the same, the stored token expires within
    Spotify's documented hour (so it is refreshed ahead of time, not before every call nor never), and a
    sort after Spotify let the access token lapse refreshes it once and finishes."""
    world.sandbox.tokens.answer_fields = {"expires_in": expires_in}
    page = await world.link(ALICE, "alice")
    assert page.status == 200, page.text
    stored = await world.services.db.tokens.load(ALICE) or {}
    assert time.time() < stored["expires_at"] <= time.time() + 3600
    world.sandbox.expire_access_tokens()
    refreshes = world.sandbox.count("POST", path_prefix="/api/token")
    assert (await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS
    assert world.sandbox.count("POST", path_prefix="/api/token") - refreshes == 1
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_a_link_granted_fewer_scopes_than_asked_links_nothing_and_says_to_approve_again(world: World) -> None:
    """Spotify grants the token without user-library-read (its answer's `scope` says so): nothing is
    linked, and the page says which permission is missing and to run /link again, not that the code
    may have expired."""
    world.sandbox.withhold_scopes("alice", ["user-library-read"])
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "Access your saved content" in page.text and "/link" in page.text and "expired" not in page.text
    assert await world.services.linking.member(ALICE) is None


async def test_a_link_granted_all_but_the_collaborative_scope_links_as_older_links_do(world: World) -> None:
    """Without playlist-read-collaborative (which only lists shared playlists) the member is linked and sorts;
    the stored token says what Spotify granted, not what genrebot asked for."""
    world.sandbox.withhold_scopes("alice", ["playlist-read-collaborative"])
    page = await world.link(ALICE, "alice")
    assert page.status == 200, page.text
    stored = await world.services.db.tokens.load(ALICE) or {}
    assert "playlist-read-collaborative" not in stored["scope"].split()
    assert (await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS


async def test_spotify_refusing_a_call_for_a_missing_scope_asks_the_member_to_link_again(world: World) -> None:
    """A stored token Spotify no longer honours for a scope it claims (an older release stored the scopes it
    asked for, not those granted): Spotify's 403 "Insufficient client scope" marks the member "needs relink"
    instead of failing every sort as "Spotify refused a request"; once Spotify grants it again, /link heals it."""
    await world.link(ALICE, "alice")
    world.sandbox.withhold_scopes("alice", ["user-library-read"])
    with pytest.raises(NeedsRelink):
        await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    world.sandbox.withhold_scopes("alice", [])
    assert (await world.link(ALICE, "alice")).status == 200
    assert (await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))).total_songs == ALICE_SONGS


async def test_a_code_exchange_answered_5xx_after_spotify_used_the_code_says_spotify_failed(world: World) -> None:
    """Spotify makes the tokens, then answers 502: asking again with the same code can only be refused
    (invalid_grant), and the page says Spotify had trouble and to run /link again, not that the code
    may have expired."""
    world.services.spotify_app.policy = RetryPolicy(sleep=lambda s: None)
    world.sandbox.inject(502, method="POST", path_prefix="/api/token", after_processing=True)
    page = await world.link(ALICE, "alice")
    assert page.status == 400
    assert "answering right now" in page.text and "expired" not in page.text
    assert await world.services.linking.member(ALICE) is None


async def test_a_code_exchange_answered_5xx_before_spotify_used_the_code_links(world: World) -> None:
    """A 503 before the code was used: the exchange is made again and the member is linked."""
    world.services.spotify_app.policy = RetryPolicy(sleep=lambda s: None)
    world.sandbox.inject(503, method="POST", path_prefix="/api/token")
    page = await world.link(ALICE, "alice")
    assert page.status == 200, page.text
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED


def test_a_link_refused_for_an_unnamed_permission_says_so_without_an_empty_list() -> None:
    """Spotify refused a call at link time as "Insufficient client scope" without saying which: the
    page says a permission is missing and to approve every one, with no empty "(missing: )"."""
    page = link_problem(ScopesMissing())
    assert "(missing: )" not in page and "()" not in page
    assert "permission" in page and "approve every permission" in page
    assert "“Access your saved content”" in link_problem(ScopesMissing(["user-library-read"]))
