"""Artists joined with ", " in a CSV that carries no artist URIs (training/artist_lists.py), read
through the real loader; where the model's known-artist check decides, the shipped classifier's."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier import Classifier
from tests.training.layouts import write
from training.data import iter_rows, load_labelled, load_rows

HEADER = ["track_name", "artists", "album_name"]  # a hand-made or Kaggle-style file: no artist URIs


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load()


def artists_by_title(path: Path, classifier: Classifier | None = None, rows_per_chunk: int = 10_000
                     ) -> dict[str, tuple[str, ...]]:
    known = classifier.known_artists if classifier is not None else None
    return {song.name: song.artists for chunk in iter_rows(path, rows_per_chunk, known_artists=known)
            for song in chunk.tracks}


def test_a_list_is_split_when_its_first_artist_stands_alone_elsewhere_in_the_file(tmp_path: Path) -> None:
    """"Nova Harbor, Quiet Lanterns" is two artists when Nova Harbor has songs of its own in the file,
    even when those come in a later chunk than the list."""
    source = write(tmp_path / "library.csv", HEADER, [
        ["Low Tide", "Nova Harbor, Quiet Lanterns", "Shore"],
        *[[f"Harbor Song {i}", "Nova Harbor", "Shore"] for i in range(5)],
        ["Paper Moon", "Velvet Signal", "Signals"],
    ])
    for rows_per_chunk in (2, 10_000):
        read = artists_by_title(source, rows_per_chunk=rows_per_chunk)
        assert read["Low Tide"] == ("Nova Harbor", "Quiet Lanterns")
        assert read["Harbor Song 0"] == ("Nova Harbor",)
    assert load_rows(source).tracks[0].artists == ("Nova Harbor", "Quiet Lanterns")


def test_a_list_is_split_when_the_model_knows_its_first_artist(tmp_path: Path, shipped: Classifier) -> None:
    """"Drake, Quiet Lanterns": Drake is in the shipped model's artist table, so the song is Drake's
    (without the model and with no song of Drake's own in the file it stays one name)."""
    source = write(tmp_path / "featuring.csv", HEADER, [["Night Drive", "Drake, Quiet Lanterns", "Late"],
                                                        ["Paper Moon", "Velvet Signal", "Signals"]])
    assert artists_by_title(source, shipped)["Night Drive"] == ("Drake", "Quiet Lanterns")
    assert artists_by_title(source)["Night Drive"] == ("Drake, Quiet Lanterns",)


def test_a_name_the_model_knows_whole_is_never_split(tmp_path: Path, shipped: Classifier) -> None:
    """Tyler, The Creator stays one artist even in a file that has an artist called Tyler (and the
    same for Earth, Wind & Fire and Crosby, Stills, Nash & Young)."""
    whole = ["Tyler, The Creator", "Earth, Wind & Fire", "Crosby, Stills, Nash & Young"]
    source = write(tmp_path / "names.csv", HEADER, [
        *[[f"Whole {i}", name, "Album"] for i, name in enumerate(whole)],
        *[[f"Alone {i}", name, "Album"] for i, name in enumerate(["Tyler", "Earth", "Crosby"])],
    ])
    read = artists_by_title(source, shipped)
    assert [read[f"Whole {i}"] for i in range(3)] == [(name,) for name in whole]


def test_a_generational_suffix_is_part_of_the_name_not_an_artist(tmp_path: Path) -> None:
    """"Nova Harbor, Jr." is Nova Harbor's son, not Nova Harbor with an artist called "Jr."."""
    source = write(tmp_path / "family.csv", HEADER, [["Son", "Nova Harbor, Jr.", "Heirs"],
                                                     ["Father", "Nova Harbor", "Heirs"],
                                                     ["Grandson", "Nova Harbor III", "Heirs"]])
    assert artists_by_title(source)["Son"] == ("Nova Harbor, Jr.",)


def test_a_longer_list_keeps_a_name_read_whole_elsewhere_in_one_piece(tmp_path: Path, shipped: Classifier) -> None:
    """In "Nova Harbor, Salt, Pepper & Sea, Quiet Lanterns" the band Salt, Pepper & Sea (a song of
    its own in the file, its first part no artist) is one artist; so is Earth, Wind & Fire, which the
    model knows, after Drake."""
    source = write(tmp_path / "long.csv", HEADER, [
        ["Together", "Nova Harbor, Salt, Pepper & Sea, Quiet Lanterns", "Guests"],
        ["Alone", "Nova Harbor", "Own"],
        ["Band", "Salt, Pepper & Sea", "Own"],
        ["Boogie", "Drake, Earth, Wind & Fire", "Guests"],
    ])
    read = artists_by_title(source, shipped)
    assert read["Together"] == ("Nova Harbor", "Salt, Pepper & Sea", "Quiet Lanterns")
    assert read["Band"] == ("Salt, Pepper & Sea",)
    assert read["Boogie"] == ("Drake", "Earth, Wind & Fire")


def test_a_file_that_joins_artists_with_semicolons_keeps_commas_inside_names(tmp_path: Path) -> None:
    """The Kaggle tracks layout joins artists with ";": a ", " there is part of a name."""
    rows = [[f"Song {i}", "Nova Harbor;Quiet Lanterns" if i % 3 else "Nova Harbor", "Shore", "rock"] for i in range(6)]
    source = write(tmp_path / "dataset.csv", [*HEADER, "track_genre"], [*rows, ["Comma", "Nova Harbor, Jay", "S", "pop"]])
    read = {song.name: song.artists for song in load_labelled(source).tracks}
    assert read["Comma"] == ("Nova Harbor, Jay",) and read["Song 1"] == ("Nova Harbor", "Quiet Lanterns")


def test_training_reads_a_list_by_the_file_alone(tmp_path: Path) -> None:
    """The training loader (no model yet) splits a list whose first artist stands alone in the file,
    as prediction does, and leaves a name whose first part is no artist of the file whole."""
    source = write(tmp_path / "labelled.csv", [*HEADER, "genre"], [
        ["Low Tide", "Nova Harbor, Quiet Lanterns", "Shore", "rock"],
        ["High Tide", "Nova Harbor", "Shore", "rock"],
        ["September", "Earth, Wind & Fire", "Best", "r&b"],
    ])
    read = {song.name: song.artists for song in load_labelled(source).tracks}
    assert read == {"Low Tide": ("Nova Harbor", "Quiet Lanterns"), "High Tide": ("Nova Harbor",),
                    "September": ("Earth, Wind & Fire",)}
