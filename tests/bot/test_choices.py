"""Autocomplete answers: families and genres of the whole taxonomy matched as the member types,
time zones (the zone list read once, each keystroke only filters it) and sources (never slower
than Discord allows, never failing); all within Discord's limits."""

from __future__ import annotations

from bot.choices import MAX_CHOICES, genre_choices, source_choices, timezone_choices, timezone_index
from bot.services.genre_names import resolve_pick, split_genres
from bot.services.weekly_schedule import known_timezones
from classifier import Classifier, Taxonomy
from tests.bot.conftest import World

ALICE = 111



def test_time_zone_autocomplete_reads_the_zone_list_once() -> None:
    """A hundred keystrokes read tzdata's zone list at most once."""
    known_timezones.cache_clear()
    timezone_index.cache_clear()
    for text in ["e", "eu", "eur", "euro", "europe/", "europe/b", "europe/be", "berl"] * 12 + ["x", "utc"]:
        timezone_choices(text)
    assert known_timezones.cache_info().misses == 1 and timezone_index.cache_info().misses == 1


def test_time_zone_autocomplete_offers_matching_zones_within_discords_limits() -> None:
    """'berl' offers Europe/Berlin; an empty or huge fragment still answers at most 25 short choices."""
    assert [c.value for c in timezone_choices("berl")] == ["Europe/Berlin"]
    for text in ["", "a", "x" * 5000]:
        choices = timezone_choices(text)
        assert len(choices) <= MAX_CHOICES
        assert all(1 <= len(c.name) <= 100 for c in choices)



async def test_a_slow_spotify_gets_liked_songs_at_once_and_the_list_later(world: World) -> None:
    """While Spotify takes its time, the answer is Liked Songs alone; the fetch goes on for the next keystroke."""
    road = world.sandbox.add_playlist("alice", "Road Trip")
    await world.link(ALICE, "alice")
    world.sandbox.latency_s = 0.5  # the list takes at least two such requests
    choices = await source_choices(world.services.sources, ALICE, "", wait_s=0.05)
    assert [c.value for c in choices] == ["liked"]
    playlists = await world.services.sources.playlists(ALICE)  # the same fetch, still running
    assert [p.id for p in playlists.readable] == [road.id]
    assert world.sandbox.count("GET", "/v1/me/playlists") == 1


async def test_a_member_who_never_linked_is_offered_liked_songs(world: World) -> None:
    """No link, no playlists, no error: Liked Songs alone."""
    choices = await source_choices(world.services.sources, 999, "li")
    assert [(c.name, c.value) for c in choices] == [("Liked Songs", "liked")]


def shipped_taxonomy() -> Taxonomy:
    return Classifier.load().taxonomy


def test_genre_autocomplete_offers_families_and_genres_as_the_member_types() -> None:
    """'k-p' offers K-Pop (a genre); 'jaz' offers the Jazz & Blues family first; 'rap' finds Hip-Hop by its alias."""
    taxonomy = shipped_taxonomy()
    assert [c.value for c in genre_choices(taxonomy, "k-p")][0] == taxonomy.label("k-pop", "genre")
    assert [c.value for c in genre_choices(taxonomy, "jaz")][0] == taxonomy.label("jazz", "family")
    assert taxonomy.label("hip-hop", "family") in [c.value for c in genre_choices(taxonomy, "rap")]


def test_genre_autocomplete_values_resolve_to_what_they_name() -> None:
    """Every offered value reads back as the family or genre its choice names, at either level."""
    taxonomy = shipped_taxonomy()
    for level in ("family", "genre"):
        for text in ["", "ro", "pop", "hip", "k", "e", "r&b"]:  # "R&B" is a genre label and a family alias
            for choice in genre_choices(taxonomy, text, level=level):  # type: ignore[arg-type]
                pick = resolve_pick(choice.value, taxonomy, level)  # type: ignore[arg-type]
                assert pick is not None and choice.name.startswith(choice.value)
                described = choice.name.removeprefix(choice.value)
                assert ("family of" in described) == (pick.level == "family"), (level, choice)


def test_genre_autocomplete_completes_the_last_entry_of_a_list() -> None:
    """After 'Jazz & Blues, k-p' the choices keep the first entry and complete the second; picked ones are not offered again."""
    taxonomy = shipped_taxonomy()
    jazz = taxonomy.label("jazz", "family")
    values = [c.value for c in genre_choices(taxonomy, f"{jazz}, k-p", several=True)]
    assert values[0] == f"{jazz}, {taxonomy.label('k-pop', 'genre')}"
    assert all(v.startswith(f"{jazz}, ") for v in values)
    assert f"{jazz}, {jazz}" not in [c.value for c in genre_choices(taxonomy, f"{jazz}, ", several=True)]


def test_genre_autocomplete_stays_within_discords_limits_whatever_is_typed() -> None:
    """At most 25 choices with names and values of 1-100 characters, for any input, a long list included."""
    taxonomy = shipped_taxonomy()
    long_list = ", ".join(taxonomy.label(f, "family") for f in taxonomy) + ", r"
    for text in ["", "a", "e", "x" * 5000, long_list, ",,,", "K-Pop, " * 30]:
        choices = genre_choices(taxonomy, text, several=True)
        assert len(choices) <= MAX_CHOICES
        assert all(1 <= len(c.name) <= 100 and 1 <= len(c.value) <= 100 for c in choices)


def test_curly_apostrophes_and_dashes_read_as_straight_ones() -> None:
    """"Children’s", "rock ’n’ roll" and "K–Pop" resolve as "Children's", "Rock 'n' Roll" and "K-Pop" do,
    and autocomplete completes "children’"."""
    taxonomy = shipped_taxonomy()
    for curly, straight in [("Children’s", "Children's"), ("rock ’n’ roll", "Rock 'n' Roll"), ("K–Pop", "K-Pop")]:
        assert resolve_pick(curly, taxonomy) == resolve_pick(straight, taxonomy) is not None
    assert "Children's" in [c.value for c in genre_choices(taxonomy, "children’")]


def test_names_typed_with_accents_or_run_together_resolve_and_autocomplete() -> None:
    """"reggaetón" (the Spanish spelling), "hiphop", "rock'n'roll", "childrens" and "jazz and blues"
    name what "Reggaeton", "Hip-Hop", "Rock 'n' Roll", "Children's" and "Jazz & Blues" do, and
    autocomplete offers them."""
    taxonomy = shipped_taxonomy()
    for typed, meant in [("reggaetón", "Reggaeton"), ("REGGAETÓN", "Reggaeton"), ("hiphop", "Hip-Hop"),
                         ("rock'n'roll", "Rock 'n' Roll"), ("rocknroll", "Rock 'n' Roll"),
                         ("childrens", "Children's"), ("Forró", "Forró"), ("forro", "Forró"),
                         ("jazz and blues", "Jazz & Blues"), ("R and B", "R&B")]:
        for level in ("family", "genre"):
            assert resolve_pick(typed, taxonomy, level) == resolve_pick(meant, taxonomy, level) is not None, (typed, level)  # type: ignore[arg-type]
    assert [c.value for c in genre_choices(taxonomy, "reggaetó")][:1] == ["Reggaeton"]
    assert [c.value for c in genre_choices(taxonomy, "hiphop")][:1] == ["Hip-Hop"]
    assert "Rock 'n' Roll" in [c.value for c in genre_choices(taxonomy, "rock'n")]


def test_a_run_together_name_two_things_share_resolves_to_neither() -> None:
    """Reading names run together never picks one of two families or genres at random."""
    taxonomy = Taxonomy([
        {"key": "a", "label": "Alpha", "genres": [{"key": "ab-c", "label": "Ab C"}, {"key": "a-bc", "label": "A Bc"}]},
    ])
    assert resolve_pick("abc", taxonomy, "genre") is None
    assert resolve_pick("Ab-C", taxonomy, "genre") is not None


def test_a_name_two_unrelated_families_use_means_the_family_at_either_level() -> None:
    """'world music' is the World & Regional family's other name and, from a training data set's
    tag, an alias of Worship (Gospel & Christian): at level:genre it still means World & Regional,
    and autocomplete offers that first. 'Rock' at level:genre stays the Rock genre."""
    taxonomy = shipped_taxonomy()
    world = resolve_pick("World & Regional", taxonomy)
    for level in ("family", "genre"):
        assert resolve_pick("world music", taxonomy, level) == world  # type: ignore[arg-type]
        assert resolve_pick(genre_choices(taxonomy, "world music", level=level)[0].value, taxonomy, level) == world  # type: ignore[arg-type]
    rock_genre = resolve_pick("rock", taxonomy, "genre")
    assert rock_genre is not None and rock_genre.level == "genre"
    assert resolve_pick("Worship", taxonomy, "genre") == resolve_pick("worship", taxonomy) != world


def test_genres_family_autocomplete_offers_the_family_of_a_genre_typed() -> None:
    """/genres family:techno opens Electronic (the command takes a genre's name), so autocomplete
    offers Electronic for 'techno' and Latin for 'reggaet' instead of nothing; families only."""
    taxonomy = shipped_taxonomy()
    for typed, family in [("techno", "electronic"), ("reggaet", "latin"), ("samba", "brazilian"), ("k-pop", "asian-pop")]:
        choices = genre_choices(taxonomy, typed, families_only=True)
        assert choices and choices[0].value == taxonomy.label(family, "family"), (typed, choices)
        assert all(resolve_pick(c.value, taxonomy) is not None and resolve_pick(c.value, taxonomy).level == "family"  # type: ignore[union-attr]
                   for c in choices)
    assert len({c.value for c in genre_choices(taxonomy, "house", families_only=True)}) == len(
        genre_choices(taxonomy, "house", families_only=True))  # Electronic once, for its several houses


def test_two_names_of_a_list_are_never_read_as_one_run_together() -> None:
    """'Pop, EDM' is Pop and EDM, not 'pop edm' (an alias of EDM) read without its comma: every
    pair of the shipped model's labels stays two names, at either level."""
    taxonomy = shipped_taxonomy()
    labels = [taxonomy.label(f, "family") for f in taxonomy.families] + [taxonomy.label(g, "genre") for g in taxonomy.genres]
    for level in ("family", "genre"):
        merged = [(a, b) for a in labels for b in labels
                  if a != b and len(split_genres(f"{a}, {b}", taxonomy, level)) != 2]  # type: ignore[arg-type]
        assert merged == [], level
