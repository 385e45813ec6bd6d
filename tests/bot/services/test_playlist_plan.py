"""Which songs go into which playlist, for each option a member can set, over a two-level taxonomy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.cli import song_genres
from bot.services.genre_names import (
    NoGenresNamed,
    UnknownGenre,
    key_label,
    parse_level,
    pick_of_key,
    playlist_name,
    resolve_genres,
    split_genres,
)
from bot.services.playlist_plan import SongGenres, SortOptions, plan_playlists, playlist_keys
from classifier import Classifier, Taxonomy
from sandbox.library import synthetic_library
from tests.training.layouts import exportify
from training.data import iter_rows
from training.predict import classify_file

TAXONOMY = Taxonomy([
    {"key": "rock", "label": "Rock", "genres": [
        {"key": "rock", "label": "Rock"}, {"key": "alt-rock", "label": "Alt-Rock"},
        {"key": "hard-rock", "label": "Hard Rock", "aliases": ["hard rock"]}]},
    {"key": "latin", "label": "Latin", "genres": [{"key": "latin", "label": "Latin"},
                                                  {"key": "reggaeton", "label": "Reggaeton"}]},
    {"key": "jazz", "label": "Jazz & Blues", "genres": [{"key": "jazz", "label": "Jazz"},
                                                        {"key": "blues", "label": "Blues"}]},
    {"key": "hip-hop", "label": "Hip-Hop", "aliases": ["rap"], "genres": [{"key": "hip-hop", "label": "Hip-Hop"},
                                                                          {"key": "trap", "label": "Trap"}]},
    {"key": "asian-pop", "label": "East Asian Pop & Rock", "genres": [{"key": "k-pop", "label": "K-Pop"},
                                                                      {"key": "j-pop", "label": "J-Pop"}]},
])


def songs(*rows: dict[str, float], prefix: str = "s") -> SongGenres:
    """Songs whose genre probabilities are these (the rest of each row spread evenly)."""
    matrix = np.zeros((len(rows), len(TAXONOMY.genres)), dtype=np.float32)
    for i, row in enumerate(rows):
        rest = (1.0 - sum(row.values())) / (len(TAXONOMY.genres) - len(row))
        matrix[i] = rest
        for genre, p in row.items():
            matrix[i, TAXONOMY.genre_index[genre]] = p
    return SongGenres.decide([f"{prefix}{i}" for i in range(len(rows))], matrix, TAXONOMY)


def test_songs_are_grouped_by_family_in_library_order() -> None:
    """Each family playlist keeps the library's order (newest first for Liked Songs)."""
    library = songs(*([{"alt-rock": 0.9}, {"reggaeton": 0.9}] * 5), {"rock": 0.9})
    plan = plan_playlists(library, SortOptions(), TAXONOMY)
    assert plan.playlists == {"rock": ["s0", "s2", "s4", "s6", "s8", "s10"], "latin": ["s1", "s3", "s5", "s7", "s9"]}
    assert plan.unsorted == []


def test_families_below_the_minimum_size_stay_unsorted() -> None:
    """Two rock songs with min size 5 go to unsorted instead of a 2-song playlist."""
    plan = plan_playlists(songs({"rock": 0.9}, {"hard-rock": 0.9}, *[{"latin": 0.9}] * 5), SortOptions(), TAXONOMY)
    assert list(plan.playlists) == ["latin"]
    assert plan.unsorted == ["s0", "s1"]


def test_low_confidence_songs_stay_unsorted() -> None:
    """Below min_confidence a song goes to unsorted instead of a playlist."""
    plan = plan_playlists(songs({"rock": 0.9}, {"rock": 0.4, "jazz": 0.4}), SortOptions(min_confidence=0.5, min_playlist_size=1),
                          TAXONOMY)
    assert plan.playlists == {"rock": ["s0"]} and plan.unsorted == ["s1"]


def test_a_family_is_as_likely_as_its_genres_together() -> None:
    """A song 31% rock, 30% alt-rock, 35% jazz is Rock (the family, 61.5%) and, within it, Rock."""
    library = songs({"rock": 0.31, "alt-rock": 0.30, "jazz": 0.35})
    assert (TAXONOMY.families[library.family[0]], TAXONOMY.genres[library.genre[0]]) == ("rock", "rock")
    assert library.family_confidence[0] == pytest.approx(0.615, abs=1e-4)  # 0.31 + 0.30 + hard-rock's 0.005


def test_genre_level_keys_playlists_by_family_and_genre() -> None:
    """At genre level each playlist is one genre, keyed 'family/genre'."""
    plan = plan_playlists(songs({"hard-rock": 0.8}, {"k-pop": 0.7}), SortOptions(level="genre", min_playlist_size=1),
                          TAXONOMY)
    assert plan.playlists == {"asian-pop/k-pop": ["s1"], "rock/hard-rock": ["s0"]}


def test_multi_adds_a_likely_second_family() -> None:
    """With multi, a song 55% rock / 40% latin joins both playlists; 90/5 joins one."""
    plan = plan_playlists(songs({"rock": 0.55, "latin": 0.40}, {"rock": 0.90, "latin": 0.05}),
                          SortOptions(multi=True, min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"rock": ["s0", "s1"], "latin": ["s0"]}


def test_multi_at_genre_level_adds_a_likely_second_genre() -> None:
    """At genre level the runner-up is a genre, even one of the same family."""
    plan = plan_playlists(songs({"alt-rock": 0.5, "hard-rock": 0.45}),
                          SortOptions(level="genre", multi=True, min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"rock/alt-rock": ["s0"], "rock/hard-rock": ["s0"]}


def test_picked_families_and_genres_limit_the_playlists_and_count_the_rest() -> None:
    """genres:jazz, k-pop makes a Jazz & Blues and a K-Pop playlist; other songs are counted, not unsorted."""
    picked = resolve_genres(["jazz", "k-pop"], TAXONOMY)
    library = songs({"jazz": 0.9}, {"blues": 0.9}, {"k-pop": 0.9}, {"j-pop": 0.9}, {"rock": 0.9})
    plan = plan_playlists(library, SortOptions(genres=picked, min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"jazz": ["s0", "s1"], "asian-pop/k-pop": ["s2"]}
    assert plan.not_chosen == 2 and plan.unsorted == []


def test_playlists_are_named_after_what_was_picked() -> None:
    """The picked family's label and the picked genre's label name the playlists."""
    plan = plan_playlists(songs({"jazz": 0.9}, {"k-pop": 0.9}),
                          SortOptions(genres=resolve_genres(["jazz", "k-pop"], TAXONOMY), min_playlist_size=1),
                          TAXONOMY)
    assert sorted(playlist_name(plan.labels[k]) for k in plan.playlists) == ["Jazz & Blues · genrebot", "K-Pop · genrebot"]


def test_a_picked_genre_takes_its_songs_out_of_its_picked_family() -> None:
    """Picking Rock and Alt-Rock: alt-rock songs go to Alt-Rock only, the other rock songs to Rock."""
    picked = resolve_genres(["rock", "alt-rock"], TAXONOMY)
    plan = plan_playlists(songs({"alt-rock": 0.9}, {"hard-rock": 0.9}), SortOptions(genres=picked, min_playlist_size=1),
                          TAXONOMY)
    assert plan.playlists == {"rock": ["s1"], "rock/alt-rock": ["s0"]}


def test_a_picked_family_at_genre_level_stands_for_each_of_its_genres() -> None:
    """level:genre with genres:'East Asian Pop & Rock' makes one playlist per genre of that family."""
    picked = resolve_genres(["East Asian Pop & Rock"], TAXONOMY, "genre")
    plan = plan_playlists(songs({"k-pop": 0.9}, {"j-pop": 0.9}, {"jazz": 0.9}),
                          SortOptions(genres=picked, level="genre", min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"asian-pop/j-pop": ["s1"], "asian-pop/k-pop": ["s0"]} and plan.not_chosen == 1


def test_typed_names_resolve_to_families_or_genres() -> None:
    """Any case or spacing; a family first at family level, a genre first at genre level; qualifiers decide."""
    assert resolve_genres(["JAZZ", " k-pop ", "K Pop", "hard rock", "rap"], TAXONOMY) == (
        "jazz", "asian-pop/k-pop", "rock/hard-rock", "hip-hop")
    assert resolve_genres(["jazz"], TAXONOMY, "genre") == ("jazz/jazz",)
    assert resolve_genres(["Rock (genre)", "Rock (family)"], TAXONOMY) == ("rock/rock", "rock")
    assert resolve_genres(["asian-pop/k-pop"], TAXONOMY) == ("asian-pop/k-pop",)


def test_unknown_names_are_refused_with_a_few_close_suggestions() -> None:
    """A typo gets the nearest labels, never the whole taxonomy; an injection gets none."""
    with pytest.raises(UnknownGenre) as caught:
        resolve_genres(["jazz", "reggeaton", "'; DROP TABLE users;--"], TAXONOMY)
    assert caught.value.unknown == ("reggeaton", "'; DROP TABLE users;--")
    assert caught.value.suggestions[0] == "Reggaeton" and len(caught.value.suggestions) <= 5


def test_every_family_and_genre_of_the_shipped_model_has_a_playlist_label_of_its_own() -> None:
    """No two playlist keys share a label: the Rock genre is 'Rock (genre)', which reads back as it."""
    taxonomy = Classifier.load().taxonomy
    keys = playlist_keys(taxonomy)
    labels = [key_label(key, taxonomy) for key in keys]
    assert len(set(labels)) == len(labels)
    assert key_label("rock/rock", taxonomy) == "Rock (genre)" and key_label("rock", taxonomy) == "Rock"
    assert resolve_genres(["Rock (genre)"], taxonomy) == ("rock/rock",)


def test_a_list_naming_nothing_is_refused() -> None:
    """Commas and spaces alone name no family or genre: refused, not read as 'none of them'."""
    for typed in [",", " , ,", ",,,"]:
        with pytest.raises(NoGenresNamed):
            resolve_genres(split_genres(typed, TAXONOMY), TAXONOMY)


def test_older_keys_and_levels_still_resolve() -> None:
    """The six-genre model's 'subgenre' level is the genre level; its keys map through aliases."""
    assert parse_level("subgenre") == "genre" and SortOptions(level="subgenre").level == "genre"  # type: ignore[arg-type]
    assert pick_of_key("rap", TAXONOMY) is not None and pick_of_key("rap", TAXONOMY).playlist_key == "hip-hop"  # type: ignore[union-attr]
    assert pick_of_key("rock/hard rock", TAXONOMY).playlist_key == "rock/hard-rock"  # type: ignore[union-attr]
    assert key_label("rock/hard rock", TAXONOMY) == "Hard Rock" and key_label("polka", TAXONOMY) == "Polka"
    with pytest.raises(ValueError):
        parse_level("subsubgenre")


def test_counts_per_family_and_per_genre() -> None:
    """Songs per family and per genre, most first (what leaderboards and charts read)."""
    library = songs({"alt-rock": 0.9}, {"hard-rock": 0.9}, {"alt-rock": 0.9}, {"k-pop": 0.9})
    assert library.counts(TAXONOMY, "family") == {"rock": 3, "asian-pop": 1}
    assert library.counts(TAXONOMY, "genre") == {"alt-rock": 2, "hard-rock": 1, "k-pop": 1}


def test_decisions_agree_with_the_classifiers() -> None:
    """The shipped model's songs get the family and genre Classifier.decide gives them."""
    classifier = Classifier.load()
    tracks = synthetic_library(300, seed=5)
    probabilities = classifier.genre_probabilities(tracks)
    ours = SongGenres.decide([t.id for t in tracks], probabilities, classifier.taxonomy)
    theirs = classifier.decide(probabilities)
    assert (ours.family == theirs.family).all() and (ours.genre == theirs.genre).all()
    assert np.allclose(ours.family_confidence, theirs.family_confidence, atol=1e-5)


def test_a_csvs_kept_decisions_name_the_runner_ups_the_sort_would(tmp_path: Path) -> None:
    """`sort --csv` keeps a few numbers per row, not every family's probability: the same picks and runner-ups as /sort's."""
    classifier = Classifier.load()
    export = exportify(tmp_path, with_audio=False)
    [loaded] = iter_rows(export, 1_000)
    ids = [str(row) for row in range(len(loaded.tracks))]
    ours = SongGenres.decide(ids, classifier.genre_probabilities(loaded.tracks), classifier.taxonomy)
    kept = song_genres(classify_file(export, classifier, progress=False).decided, classifier.taxonomy)
    assert kept.track_ids == ours.track_ids and (ours.second_family != ours.family).all()
    for name in ("family", "genre", "second_family", "second_genre"):
        assert (getattr(kept, name) == getattr(ours, name)).all(), name
    for name in ("family_confidence", "genre_confidence", "second_family_confidence", "second_genre_confidence"):
        assert np.allclose(getattr(kept, name), getattr(ours, name), atol=1e-5), name


def test_impossible_options_are_refused() -> None:
    """A confidence above 1 or a minimum size below 1 is refused."""
    with pytest.raises(ValueError):
        SortOptions(min_confidence=1.5)
    with pytest.raises(ValueError):
        SortOptions(min_playlist_size=0)


def test_a_name_with_a_comma_of_its_own_stays_whole_in_a_list() -> None:
    """'Film, Stage & Comedy, Jazz' is two names when the taxonomy knows the first."""
    taxonomy = Taxonomy([{"key": "stage", "label": "Film, Stage & Comedy", "aliases": ["film"],
                          "genres": [{"key": "show-tunes", "label": "Show Tunes"}]},
                         {"key": "jazz", "label": "Jazz", "genres": [{"key": "bebop", "label": "Bebop"}]}])
    assert split_genres("Film, Stage & Comedy, Jazz ,", taxonomy) == ["Film, Stage & Comedy", "Jazz"]
    assert split_genres("Jazz, Film", taxonomy) == ["Jazz", "Film"]
    assert split_genres("Film, Stage & Comedy, Jazz") == ["Film", "Stage & Comedy", "Jazz"]


def test_a_source_playlists_name_is_shortened_between_graphemes_and_without_invisible_characters() -> None:
    """A member's playlist named in flags or with a right-to-left override: the genre playlist's
    name keeps whole flags, fits Spotify's 100 counted in UTF-16 units, and shows "· genrebot" as written."""
    for lead in range(0, 4):
        name = playlist_name("K-Pop", "x" * lead + "🇯🇵🇰🇷" * 40)
        kept = name.removeprefix("K-Pop · ").removesuffix("… · genrebot").removeprefix("x" * lead)
        assert len(name.encode("utf-16-le")) // 2 <= 100
        assert kept == "🇯🇵🇰🇷" * (len(kept) // 4) + "🇯🇵" * (len(kept) % 4 // 2) and len(kept) % 2 == 0
    assert playlist_name("Rock", "Road\u202e trip\u200b\x00") == "Rock · Road trip · genrebot"
    assert playlist_name("Rock", "\u200b\u2066") == "Rock · untitled · genrebot"


def test_a_name_cut_short_is_suggested_what_it_starts() -> None:
    """'afro' suggests Afrobeat first (before, Forró came first: it only looks alike)."""
    with pytest.raises(UnknownGenre) as caught:
        resolve_genres(["afro"], Classifier.load().taxonomy)
    assert caught.value.suggestions[0] == "Afrobeat"
