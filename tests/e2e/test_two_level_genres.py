"""The two-level taxonomy through the real discord.py client and the Discord stand-in (which
refuses anything over Discord's limits): /sort by families and genres, /genres and its families,
autocomplete, leaderboards and /stats at both levels, and unknown names. Every name comes from
the loaded model's taxonomy."""

from __future__ import annotations

from bot.services.genre_names import key_label
from classifier import Taxonomy
from classifier.taxonomy import Resolved
from tests.discord_standin import Message
from tests.e2e.conftest import BotWorld

ALICE = 100_000_000_000_000_333
BOB = 100_000_000_000_000_444


async def sorted_member(world: BotWorld, options: dict[str, object] | None = None) -> Message:
    await world.start_bot()
    await world.link(ALICE, "member0")
    return await world.final(await world.command("sort", options, user=ALICE))


def taxonomy_of(world: BotWorld) -> Taxonomy:
    return world.services.classifier.taxonomy


async def test_sort_by_a_family_and_a_genre_makes_a_playlist_named_after_each(world: BotWorld) -> None:
    """genres:'<the biggest family>, <a genre of another family>' makes exactly those two playlists."""
    await sorted_member(world, {"level": "genre", "dry_run": True, "min_size": 1})
    taxonomy = taxonomy_of(world)
    families = await world.services.stats.member_mix(ALICE, "family")
    genres = await world.services.stats.member_mix(ALICE, "genre")
    family = next(iter(families))
    # a genre named like no family: typed, "R&B" picks the R&B & Soul family (a family wins a tie)
    genre = next(g for g in genres if taxonomy.family_of(g) != family
                 and taxonomy.resolve(taxonomy.label(g, "genre")) == Resolved("genre", g))
    picked = f"{taxonomy.label(family, 'family')}, {taxonomy.label(genre, 'genre')}"
    reply = await world.final(await world.command("sort", {"genres": picked, "min_size": 1}, user=ALICE))
    names = {f"{taxonomy.label(family, 'family')} · genrebot", f"{taxonomy.label(genre, 'genre')} · genrebot"}
    assert {p.name for p in world.spotify.playlists_of("member0")} == names
    assert all(f"[{name}](https://open.spotify.com/playlist/" in reply.embeds[0]["description"] for name in names)
    assert any(f["name"] == "Not in your chosen genres" for f in reply.embeds[0]["fields"])


async def test_sort_by_genre_makes_playlists_named_after_genres(world: BotWorld) -> None:
    """level:genre gives one playlist per genre; level:subgenre, its older name, gives the same ones."""
    await sorted_member(world, {"level": "genre"})
    taxonomy = taxonomy_of(world)
    genre_names = {f"{key_label(f'{taxonomy.family_of(g)}/{g}', taxonomy)} · genrebot" for g in taxonomy.genres}
    first = {(p.id, p.name) for p in world.spotify.playlists_of("member0")}
    assert first and {name for _, name in first} <= genre_names
    await world.final(await world.command("sort", {"level": "subgenre"}, user=ALICE))
    assert {(p.id, p.name) for p in world.spotify.playlists_of("member0")} == first


async def test_genres_with_a_family_opens_its_genres(world: BotWorld) -> None:
    """/genres family:<the family with the most genres> lists every one of them, within Discord's limits."""
    await world.start_bot()
    taxonomy = taxonomy_of(world)
    family = max(taxonomy, key=lambda f: len(taxonomy[f]))
    reply = (await world.command("genres", {"family": taxonomy.label(family, "family")}, user=BOB)).original()
    assert reply is not None
    embed = reply.embeds[0]
    assert embed["title"].startswith(taxonomy.label(family, "family"))
    assert all(f"**{taxonomy.label(g, 'genre')}**" in embed["description"] for g in taxonomy[family])


async def test_a_genre_name_opens_its_family(world: BotWorld) -> None:
    """/genres family:<a genre> opens the family that genre belongs to."""
    await world.start_bot()
    taxonomy = taxonomy_of(world)
    genre = taxonomy.genres[-1]
    reply = (await world.command("genres", {"family": taxonomy.label(genre, "genre")}, user=BOB)).original()
    assert reply is not None and reply.embeds[0]["title"].startswith(taxonomy.label(taxonomy.family_of(genre), "family"))


async def test_an_unknown_genre_gets_close_names_within_discords_limits(world: BotWorld) -> None:
    """A misspelt genre is answered with the genre it resembles; a 5,000-character name still fits a message."""
    await world.start_bot()
    await world.link(ALICE, "member0")
    taxonomy = taxonomy_of(world)
    label = max((taxonomy.label(g, "genre") for g in taxonomy.genres), key=len)
    typo = label[:-1] + ("x" if label[-1] != "x" else "y")
    reply = await world.final(await world.command("sort", {"genres": typo}, user=ALICE))
    assert "I don't know the genre" in (reply.content or "") and label in (reply.content or "")
    huge = await world.final(await world.command("sort", {"genres": "polka" * 1000}, user=ALICE))
    assert "I don't know the genre" in (huge.content or "") and len(huge.content or "") <= 2000
    assert world.spotify.playlists == {}


async def test_a_genres_list_naming_nothing_is_refused_and_nothing_is_written(world: BotWorld) -> None:
    """genres:', ,' (commas alone) names no family or genre: the member is told how to pick, and no
    playlist is written (it used to sort every song into 'Not in your chosen genres')."""
    await world.start_bot()
    await world.link(ALICE, "member0")
    reply = await world.final(await world.command("sort", {"genres": ", ,"}, user=ALICE))
    assert not reply.embeds and "names no family or genre" in (reply.content or "")
    assert world.spotify.playlists == {}


async def test_genres_none_of_the_members_songs_are_in_make_no_playlist_and_the_reply_says_so(world: BotWorld) -> None:
    """genres:<a genre none of her songs is in>: no playlist is made, and the reply says none of her songs
    is in what she picked (it used to say "No genre had enough songs for a playlist", as if some were)."""
    await sorted_member(world, {"level": "genre", "dry_run": True})
    taxonomy = taxonomy_of(world)
    hers = await world.services.stats.member_mix(ALICE, "genre")
    absent = next(g for g in taxonomy.genres if g not in hers
                  and taxonomy.resolve(taxonomy.label(g, "genre")) == Resolved("genre", g))
    picked = taxonomy.label(absent, "genre")
    reply = await world.final(await world.command("sort", {"genres": picked, "level": "genre"}, user=ALICE))
    assert world.spotify.playlists_of("member0") == []
    description = reply.embeds[0]["description"]
    assert "None of these songs is in the genres you picked" in description, description
    assert "had enough songs" not in description


async def test_names_typed_with_curly_apostrophes_and_dashes_are_understood(world: BotWorld) -> None:
    """Phones type "Children’s" and "Rock ’n’ Roll" (smart punctuation, on by default on iOS) and
    "K–Pop": each names what its straight spelling names, in /sort and in autocomplete."""
    await world.start_bot()
    await world.link(ALICE, "member0")
    typed = "Children’s, Rock ’n’ Roll, K–Pop"
    reply = await world.final(await world.command("sort", {"genres": typed, "dry_run": True}, user=ALICE))
    assert reply.embeds and "don't know" not in (reply.content or ""), reply.content
    choices = await world.discord.autocomplete("sort", "genres", "Rock ’n", user_id=BOB)
    assert "Rock 'n' Roll" in [c["value"] for c in choices], choices


async def test_autocomplete_offers_the_whole_taxonomy_within_discords_limits(world: BotWorld) -> None:
    """Every family and genre can be reached by typing its start; each answer has at most 25 choices of 1-100 characters."""
    await world.start_bot()
    taxonomy = taxonomy_of(world)
    for level, key in [("family", f) for f in taxonomy.families] + [("genre", g) for g in taxonomy.genres[::9]]:
        label = taxonomy.label(key, level)  # type: ignore[arg-type]
        typed = label.split(",")[0][:5]  # a comma ends an entry of the list
        choices = await world.discord.autocomplete("sort", "genres", typed, user_id=BOB, options={"level": level})
        assert label in [c["value"] for c in choices], (label, choices)
    long_list = ", ".join(taxonomy.label(f, "family") for f in taxonomy) + ", "
    await world.discord.autocomplete("sort", "genres", long_list, user_id=BOB)  # refused by the stand-in if over a limit
    await world.discord.autocomplete("leaderboard", "genre", "", user_id=BOB)
    families = await world.discord.autocomplete("genres", "family", "", user_id=BOB)
    assert [c["value"] for c in families] == [taxonomy.label(f, "family") for f in taxonomy][:25]


async def test_leaderboards_and_stats_have_a_genre_view(world: BotWorld) -> None:
    """level:genre shows the server's (and the member's) genres; genre:<a genre> its top fans."""
    await sorted_member(world)
    taxonomy = taxonomy_of(world)
    top_genre = next(iter(await world.services.stats.member_mix(ALICE, "genre")))
    board = await world.final(await world.command("leaderboard", {"level": "genre"}, user=ALICE))
    assert board.embeds[0]["title"] == "This server's genres" and board.attachments
    label = world.services.stats.display_name(top_genre, "genre")
    assert board.embeds[0]["description"].startswith(f"**{label}** — ")
    fans = await world.final(await world.command("leaderboard", {"genre": f"{taxonomy.label(top_genre, 'genre')} (genre)"},
                                                 user=ALICE))
    assert fans.embeds[0]["title"] == f"Top {label} fans here" and f"<@{ALICE}>" in fans.embeds[0]["fields"][0]["value"]
    stats = await world.final(await world.command("stats", {"level": "genre"}, user=ALICE))
    assert stats.embeds[0]["title"] == "Your genres" and stats.embeds[0]["description"].startswith(f"**{label}** — ")


async def test_at_genre_level_a_name_both_levels_have_is_the_genre_as_in_sort(world: BotWorld) -> None:
    """/leaderboard genre:Rock level:genre shows the Rock genre's fans, as /sort genres:Rock level:genre
    sorts the Rock genre; without level:genre, Rock is the family."""
    await sorted_member(world)
    taxonomy = taxonomy_of(world)
    family = next(f for f in taxonomy.families if taxonomy.label(f, "family") in
                  {taxonomy.label(g, "genre") for g in taxonomy[f]})
    name = taxonomy.label(family, "family")
    as_genre = await world.final(await world.command("leaderboard", {"genre": name, "level": "genre"}, user=ALICE))
    as_family = await world.final(await world.command("leaderboard", {"genre": name}, user=ALICE))
    assert as_genre.embeds[0]["title"] == f"Top {name} (genre) fans here"
    assert as_family.embeds[0]["title"] == f"Top {name} fans here"


async def test_leaderboard_autocomplete_at_genre_level_offers_what_each_choice_says(world: BotWorld) -> None:
    """With level:genre chosen, /leaderboard genre:Pop offers 'Pop (family)' for the family, as
    /sort does: before, it offered 'Pop — family of 7 genres' with the value 'Pop', which at
    level:genre opened the Pop genre's fans."""
    await sorted_member(world)
    taxonomy = taxonomy_of(world)
    family = next(f for f in taxonomy.families if taxonomy.label(f, "family") in
                  {taxonomy.label(g, "genre") for g in taxonomy[f]})
    name = taxonomy.label(family, "family")
    choices = await world.discord.autocomplete("leaderboard", "genre", name, user_id=BOB, options={"level": "genre"})
    named = [c for c in choices if c["value"] in (name, f"{name} (family)", f"{name} (genre)")]
    assert len(named) == 2, choices
    for choice in named:
        board = await world.final(await world.command("leaderboard", {"genre": choice["value"], "level": "genre"},
                                                      user=BOB))
        says_family = "family of" in choice["name"].removeprefix(choice["value"])
        shows_family = board.embeds[0]["title"] == f"Top {name} fans here"
        assert says_family == shows_family, (choice, board.embeds[0]["title"])


async def test_a_familys_leaderboard_shows_how_its_songs_split_into_genres(world: BotWorld) -> None:
    """genre:<a family> lists its top fans and, below, the server's songs of each of its genres."""
    await sorted_member(world)
    taxonomy = taxonomy_of(world)
    family = next(iter(await world.services.stats.member_mix(ALICE, "family")))
    genres = await world.services.stats.member_mix(ALICE, "genre")
    reply = await world.final(await world.command("leaderboard", {"genre": taxonomy.label(family, "family")}, user=ALICE))
    split = next(f for f in reply.embeds[0]["fields"] if f["name"] == "Its genres here")["value"]
    in_family = [g for g in genres if taxonomy.family_of(g) == family]
    assert split.count("\n") + 1 == len(in_family)
    assert split.startswith(f"{world.services.stats.display_name(in_family[0], 'genre')} — {genres[in_family[0]]:,}")


async def test_a_family_that_falls_short_is_emptied_and_the_reply_says_so(world: BotWorld) -> None:
    """A sort at min_size 1, then one at a size its smallest family misses: that playlist is listed under
    'Emptied' (not among the written ones), and its songs are gone from it."""
    first = await sorted_member(world, {"min_size": 1})
    mine = world.spotify.playlists_of("member0")
    smallest = min(mine, key=lambda p: (len(p.items), p.name))
    reply = await world.final(await world.command("sort", {"min_size": len(smallest.items) + 1}, user=ALICE))
    embed = reply.embeds[0]
    assert smallest.items == [] and f"[{smallest.name}]" in first.embeds[0]["description"]
    assert f"[{smallest.name}]" not in embed["description"]
    assert [f"[{smallest.name}](https://open.spotify.com/playlist/{smallest.id})" in f["value"]
            for f in embed["fields"] if f["name"] == "Emptied"] == [True]
