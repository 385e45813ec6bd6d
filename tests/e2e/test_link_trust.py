"""Issue #14 item 3 through the running bot: discord.py against the Discord stand-in, spotipy
against the Spotify sandbox, members' browsers as aiohttp sessions with their own cookie jars.

A link names who it is for, is confirmed in one browser, and is announced by DM naming the
Spotify account; with Discord OAuth2 configured, the browser must also be signed in to Discord
as the member who ran /link before it is sent to Spotify."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.member_browser import PageSeen, browser_session, confirm, on_spotify, open_page, walk_link_flow
from sandbox.library import synthetic_library
from tests.bot.presenters.discord_markdown import live_markdown, live_mentions, shown_text
from tests.discord_standin.oauth2 import sign_in_with_discord
from tests.e2e.conftest import BotWorld

ALICE = 100_000_000_000_000_111
STRANGER = 100_000_000_000_000_222


async def test_a_link_is_announced_by_dm_naming_the_spotify_account(world: BotWorld) -> None:
    """After linking, the member gets a DM with the Spotify display name and id, and /unlink."""
    await world.start_bot()
    await world.link(ALICE, "member3")
    account = world.spotify.users["member3"]
    dm = (await world.discord.wait_for_dm(ALICE, lambda m: "now linked" in (m.content or ""))).content or ""
    assert f"**{account.display_name}**" in dm and account.account_id in dm and "/unlink" in dm


async def test_the_link_button_opens_genrebots_page_naming_the_member(world: BotWorld) -> None:
    """The /link button leads to genrebot's page (not Spotify's) naming the member as Discord showed them."""
    await world.start_bot()
    url = await world.link_url(ALICE)
    assert url.startswith(world.settings.spotify_redirect_uri.removesuffix("callback") + "link?state=")
    async with browser_session() as browser:
        page = await open_page(browser, url)
    assert page.status == 200 and "<strong>Member 111</strong>" in page.text and "@member111" in page.text


async def test_a_forwarded_consent_url_links_nothing_and_tells_the_member(world: BotWorld) -> None:
    """The member confirms, a stranger finishes on Spotify in another browser: refused, nothing
    linked, no DM about a link; the member's own browser then links."""
    await world.start_bot()
    url = await world.link_url(ALICE)
    async with browser_session() as members_browser, browser_session() as strangers_browser:
        consent_url = await confirm(members_browser, url)
        assert isinstance(consent_url, str)
        refused = await on_spotify(strangers_browser, consent_url, spotify_user="member9")
        assert refused.status == 400 and "confirmed in a different browser" in refused.text
        assert await world.services.linking.member(ALICE) is None and ALICE not in world.discord.dms
        linked = await on_spotify(members_browser, consent_url, spotify_user="member3")
    assert linked.status == 200
    await world.link_records[ALICE].wait_for(lambda m: "Linked to the Spotify account" in (m.content or ""), 10)
    dm = await world.discord.wait_for_dm(ALICE, lambda m: "now linked" in (m.content or ""))
    assert world.spotify.users["member3"].account_id in (dm.content or "")

# Spotify documents no maximum for a display name: 1,500 characters of markdown, mentions and a line break.
LONG_SPOTIFY_NAME = ("**Ada** __the__ _great_ `x` ~~y~~ ||z|| [x](https://x.test) @everyone <@123456789012345678> # "
                     * 16 + "\n> ")[:1500]


def quoted_name(shown: str, before: str, after: str) -> str:
    """The display name as a member reads it between the reply's own words."""
    assert before in shown and after in shown, shown
    return shown.partition(before)[2].rpartition(after)[0]


async def test_a_very_long_spotify_display_name_is_shortened_in_the_link_reply_dm_and_status(world: BotWorld) -> None:
    """A 1,500-character Spotify display name: the /link reply, the DM and /status each show its start,
    escaped, with '…', within Discord's limits; nothing formats and nobody is pinged."""
    world.spotify.add_user("longname", LONG_SPOTIFY_NAME, synthetic_library(5, seed=7, prefix="ln"))
    await world.start_bot()
    reply = (await world.link(ALICE, "longname")).content or ""
    dm = next(m.content or "" for m in world.discord.dms[ALICE] if "now linked" in (m.content or ""))
    status = await world.final(await world.command("status", user=ALICE))
    linked_as = status.embeds[0]["fields"][0]["value"]
    typed = " ".join(LONG_SPOTIFY_NAME.split())
    for text, before, after, own_markdown, limit in [
        (reply, "Linked to the Spotify account **", "** (", ["*", "*", "*", "*", "`", "`"], 2000),
        (dm, "now linked to the Spotify account **", "** (", ["*", "*", "*", "*", "`", "`", "*", "*", "*", "*"], 2000),
        (linked_as, "Linked as ", "", [], 1024),
    ]:
        name = quoted_name(shown_text(text), before, after) if after else shown_text(text).partition(before)[2]
        assert name.endswith("…") and typed.startswith(name[:-1]) and len(name) >= 40, text
        assert live_markdown(text) == own_markdown and live_mentions(text) == [], text
        assert len(text) <= limit


# --- with Discord OAuth2 configured ---------------------------------------------------------------


@pytest.fixture
async def checked_world(world: BotWorld) -> AsyncIterator[BotWorld]:
    """The operator set DISCORD_CLIENT_ID/SECRET and registered the bot's Discord redirect URI."""
    redirect = world.settings.spotify_redirect_uri.removesuffix("callback") + "discord-callback"
    world.discord.oauth_redirect_uris.add(redirect)
    world.settings = world.settings.model_copy(update={
        "discord_client_id": world.discord.oauth_client_id,
        "discord_client_secret": SecretStr(world.discord.oauth_client_secret),
    })
    await world.start_bot()
    yield world


async def signed_in_as(world: BotWorld, browser_user: int, link_url: str) -> PageSeen | str:
    """A browser signed in to Discord as `browser_user` opens the link, confirms, and authorises on
    Discord; genrebot's answer: the next URL (Spotify's consent page) or the page it showed."""
    async with browser_session() as browser:
        return await _walk_to_spotify(world, browser, browser_user, link_url)


async def _walk_to_spotify(world: BotWorld, browser: aiohttp.ClientSession, browser_user: int,
                           link_url: str) -> PageSeen | str:
    async with browser.get(world.discord.login_url(browser_user)) as signed_in:
        assert signed_in.status == 200
    discord_url = await confirm(browser, link_url)
    assert isinstance(discord_url, str) and discord_url.startswith(world.discord.web_base + "/oauth2/authorize")
    back = await sign_in_with_discord(browser, discord_url)
    async with browser.get(back, allow_redirects=False) as answer:
        if answer.status == 303:
            return answer.headers["Location"]
        return PageSeen(str(answer.url), answer.status, await answer.text())


async def test_with_the_discord_check_the_members_own_browser_links(checked_world: BotWorld) -> None:
    """Signed in to Discord as the member: Discord, then Spotify's consent page, then linked."""
    world = checked_world
    url = await world.link_url(ALICE)
    async with browser_session() as browser:
        spotify_url = await _walk_to_spotify(world, browser, ALICE, url)
        assert isinstance(spotify_url, str) and spotify_url.startswith(world.settings.spotify_accounts_base)
        page = await on_spotify(browser, spotify_url, spotify_user="member3")
    assert page.status == 200 and "is now linked" in page.text
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.spotify_id == world.spotify.users["member3"].account_id


async def test_with_the_discord_check_a_stranger_never_reaches_spotify(checked_world: BotWorld) -> None:
    """A forwarded /link URL opened by someone signed in to Discord as someone else is refused
    before Spotify, naming both accounts; the link is used up and nothing is linked."""
    world = checked_world
    url = await world.link_url(ALICE)
    await world.command("genres", user=STRANGER)  # the stranger is in the server too
    answer = await signed_in_as(world, STRANGER, url)
    assert isinstance(answer, PageSeen) and answer.status == 400
    assert "signed in to Discord as Member 222" in answer.text and "this link is for Member 111" in answer.text
    assert await world.services.linking.member(ALICE) is None
    async with browser_session() as members_browser:
        again = await open_page(members_browser, url)
    assert again.status == 400 and "already used" in again.text


async def test_with_the_discord_check_the_members_reply_names_the_stranger_as_discord_shows_them(
    checked_world: BotWorld,
) -> None:
    """The member's /link reply names who opened their link with the markdown of their names shown
    as typed: a display name's '**' and '[x](y)', a username's '__', neither bold, link nor underline."""
    world = checked_world
    world.discord.rename(STRANGER, global_name="**Mallory** [x](y)", username="__mallory__")
    url = await world.link_url(ALICE)
    await world.command("genres", user=STRANGER)
    await signed_in_as(world, STRANGER, url)
    reply = await world.link_records[ALICE].wait_for(lambda m: "signed in to Discord as" in (m.content or ""), 10)
    content = reply.content or ""
    assert shown_text(content).startswith(
        "❌ You're signed in to Discord as **Mallory** [x](y) (@__mallory__), but this link is for Member 111 "
        "(@member111), so nothing was linked.")
    assert live_markdown(content) == []


async def test_with_the_discord_check_the_strangers_names_are_plain_text_on_the_page(checked_world: BotWorld) -> None:
    """The page refusing a stranger shows an HTML tag in their display name as text, not markup."""
    world = checked_world
    world.discord.rename(STRANGER, global_name="<b>Mallory</b>")
    url = await world.link_url(ALICE)
    await world.command("genres", user=STRANGER)
    answer = await signed_in_as(world, STRANGER, url)
    assert isinstance(answer, PageSeen) and answer.status == 400
    assert "signed in to Discord as &lt;b&gt;Mallory&lt;/b&gt; (@member222)" in answer.text
    assert "<b>" not in answer.text


async def test_with_the_discord_check_skipping_it_links_nothing(checked_world: BotWorld) -> None:
    """A browser that confirms and then goes to Spotify without Discord's answer links nothing."""
    world = checked_world
    url = await world.link_url(ALICE)
    async with browser_session() as browser:
        discord_url = await confirm(browser, url)
        assert isinstance(discord_url, str)
        state = discord_url.split("state=", 1)[1].split("&", 1)[0]
        page = await on_spotify(browser, world.services.spotify_app.authorize_url(state), spotify_user="member3")
    assert page.status == 400 and "skipped the Discord check" in page.text
    assert await world.services.linking.member(ALICE) is None


async def test_a_link_finished_after_the_reply_expired_is_announced_by_dm_without_a_doomed_edit(
    world: BotWorld,
) -> None:
    """A member who approves Spotify's consent after their /link's token has expired (its id says
    it was made 15.5 minutes ago) gets the result by DM; the bot does not edit the dead reply."""
    await world.start_bot()
    started_earlier = 15 * 60 + 30
    world.discord.advance(-started_earlier)
    url = await world.link_url(ALICE)
    world.discord.advance(started_earlier)  # back to now: the token died 30 s ago
    async with browser_session() as session:
        page = await walk_link_flow(session, url, spotify_user="member0")
    assert page.status == 200, page.text
    dm = await world.discord.wait_for_dm(ALICE, lambda m: "now linked to the Spotify account" in (m.content or ""))
    assert "Member 0" in (dm.content or "")
    assert world.link_records[ALICE].rejected == []
