"""Which liked songs go into which playlist, for each option a member can set."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.services.playlist_plan import (
    SortOptions,
    UnknownGenre,
    genre_label,
    plan_playlists,
    playlist_name,
    resolve_genres,
)

TAXONOMY = {"rock": ["hard rock", "album rock"], "latin": ["reggaeton", "tropical"], "r&b": ["neo soul"]}


@dataclass
class P:
    genre: str
    genre_confidence: float
    subgenre: str | None = None
    subgenre_confidence: float | None = None
    genre_probabilities: dict[str, float] = field(default_factory=dict)


def test_songs_are_grouped_by_genre_in_liked_order() -> None:
    """Each playlist keeps the member's newest-first order."""
    predictions = {f"r{i}": P("rock", 0.9) for i in range(6)} | {f"l{i}": P("latin", 0.8) for i in range(5)}
    order = ["r0", "l0", "r1", "l1", "r2", "l2", "r3", "l3", "r4", "l4", "r5"]
    plan = plan_playlists(order, predictions, SortOptions(), TAXONOMY)
    assert plan.playlists["rock"] == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert plan.playlists["latin"] == ["l0", "l1", "l2", "l3", "l4"]
    assert plan.unsorted == []


def test_genres_below_the_minimum_size_stay_unsorted() -> None:
    """Two rock songs with min size 5 go to unsorted instead of a 2-song playlist."""
    predictions = {"a": P("rock", 0.9), "b": P("rock", 0.9)} | {f"l{i}": P("latin", 0.9) for i in range(5)}
    plan = plan_playlists(["a", "b", *[f"l{i}" for i in range(5)]], predictions, SortOptions(), TAXONOMY)
    assert "rock" not in plan.playlists
    assert plan.unsorted == ["a", "b"]


def test_low_confidence_songs_stay_unsorted() -> None:
    """Below min_confidence a song goes to unsorted instead of a playlist."""
    predictions = {"sure": P("rock", 0.9), "unsure": P("rock", 0.4)}
    plan = plan_playlists(["sure", "unsure"], predictions, SortOptions(min_confidence=0.5, min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"rock": ["sure"]}
    assert plan.unsorted == ["unsure"]


def test_multi_adds_a_likely_second_genre() -> None:
    """With multi, a song 55% rock / 40% latin joins both playlists; 90/5 joins one."""
    both = P("rock", 0.55, genre_probabilities={"rock": 0.55, "latin": 0.40, "r&b": 0.05})
    one = P("rock", 0.90, genre_probabilities={"rock": 0.90, "latin": 0.05, "r&b": 0.05})
    options = SortOptions(multi=True, min_playlist_size=1)
    plan = plan_playlists(["both", "one"], {"both": both, "one": one}, options, TAXONOMY)
    assert plan.playlists == {"rock": ["both", "one"], "latin": ["both"]}


def test_subgenre_level_keys_playlists_by_genre_and_subgenre() -> None:
    """At subgenre level each playlist is one genre/subgenre pair."""
    predictions = {"a": P("rock", 0.9, "hard rock", 0.7), "b": P("rock", 0.9, "album rock", 0.6)}
    plan = plan_playlists(["a", "b"], predictions, SortOptions(level="subgenre", min_playlist_size=1), TAXONOMY)
    assert plan.playlists == {"rock/hard rock": ["a"], "rock/album rock": ["b"]}


def test_chosen_genres_limit_the_playlists_and_count_the_rest() -> None:
    """Only the chosen genres get playlists; the other songs are counted, not unsorted."""
    predictions = {"r": P("rock", 0.9), "l": P("latin", 0.9)}
    options = SortOptions(genres=("latin",), min_playlist_size=1)
    plan = plan_playlists(["r", "l"], predictions, options, TAXONOMY)
    assert plan.playlists == {"latin": ["l"]}
    assert plan.not_chosen == 1 and plan.unsorted == []


def test_member_typed_names_resolve_to_keys_and_unknown_ones_list_the_valid() -> None:
    """Typed names resolve whatever their case; unknown ones raise UnknownGenre listing the valid ones."""
    assert resolve_genres(["Rock", " r&b ", "LATIN"], TAXONOMY, "genre") == ("rock", "r&b", "latin")
    assert resolve_genres(["hard rock"], TAXONOMY, "subgenre") == ("rock/hard rock",)
    with pytest.raises(UnknownGenre) as caught:
        resolve_genres(["rock", "'; DROP TABLE users;--"], TAXONOMY, "genre")
    assert caught.value.unknown == ("'; DROP TABLE users;--",)
    assert caught.value.valid == ("Rock", "Latin", "R&B")


def test_labels_and_playlist_names_read_naturally() -> None:
    """Acronyms stay upper case and subgenre keys show only the subgenre."""
    assert genre_label("r&b") == "R&B"
    assert genre_label("edm") == "EDM"
    assert genre_label("rock/album rock") == "Album Rock"
    assert playlist_name("rock") == "Rock · genrebot"


def test_impossible_options_are_refused() -> None:
    """A confidence above 1 or a minimum size below 1 is refused."""
    with pytest.raises(ValueError):
        SortOptions(min_confidence=1.5)
    with pytest.raises(ValueError):
        SortOptions(min_playlist_size=0)
