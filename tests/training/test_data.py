"""Loading every public layout and cleaning what it holds (training/data.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.training.layouts import (
    exportify,
    kaggle_tracks,
    machinehack,
    music_genre,
    songs,
    spotify_features,
    thirty_k,
    write,
)
from training.data import DataError, load_labelled, load_rows


@pytest.mark.parametrize("make", [thirty_k, kaggle_tracks, spotify_features, music_genre])
def test_each_public_layout_loads_with_labels_and_audio(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    """Every known layout gives three genres, names, artists and audio features."""
    data = load_labelled(make(tmp_path))
    assert len({g[0] for g in data.genres}) == 3
    assert data.has_audio and all(t.name for t in data.tracks)
    assert sum(bool(t.artists) for t in data.tracks) >= len(data.tracks) * 0.9
    assert sum(t.audio_features is not None for t in data.tracks) > len(data.tracks) * 0.8


def test_a_duration_in_min_ms_column_is_read_in_milliseconds_and_minutes_go_missing(tmp_path: Path) -> None:
    """The MachineHack set's "duration_in min/ms" holds milliseconds, and minutes on some rows
    (4.2): those are impossible as milliseconds, so missing, and counted; never read as 4 ms."""
    source = machinehack(tmp_path)
    lines = source.read_text().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    first[header.index("duration_in min/ms")] = "4.2"
    source.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    data = load_labelled(source, label_column="Class")
    assert data.tracks[0].duration_ms is None and data.tracks[1].duration_ms == songs()[1]["duration"]
    assert "duration: impossible (<10 s, >1 h, -1) -> missing: 1" in data.report.render()


def test_duplicate_rows_merge_into_one_track_with_both_genres(tmp_path: Path) -> None:
    """A track listed under two genres is one song carrying both labels."""
    data = load_labelled(thirty_k(tmp_path))
    assert len(data.tracks) == 240
    assert data.genres[0] == ("rock", "rap")
    assert "merged: duplicate rows of the same track: 1" in data.report.render()


def test_songs_whose_track_id_is_empty_or_a_placeholder_are_never_merged_into_one(tmp_path: Path) -> None:
    """Two different songs with no track id (an empty cell, a '-') stay two songs with their own
    label; only the same song (same name and artist) listed twice without an id is merged."""
    source = write(tmp_path / "no_ids.csv", ["track_id", "track_name", "track_artist", "track_album_name",
                                             "playlist_genre"],
                   [["", "Song A", "Artist A", "Album A", "rock"], ["", "Song B", "Artist B", "Album B", "pop"],
                    ["-", "Song C", "Artist C", "Album C", "rap"], ["n/a", "Song A", "Artist A", "Album A", "edm"],
                    ["id4", "Song D", "Artist D", "Album D", "edm"]])
    data = load_labelled(source)
    assert {t.name: g for t, g in zip(data.tracks, data.genres, strict=True)} == {
        "Song A": ("rock", "edm"), "Song B": ("pop",), "Song C": ("rap",), "Song D": ("edm",)}
    assert "merged: duplicate rows of the same track: 1" in data.report.render()


def test_rows_with_neither_name_nor_artist_are_dropped_and_reported(tmp_path: Path) -> None:
    """An empty row is dropped from training data, and the report says so."""
    data = load_labelled(thirty_k(tmp_path))
    assert all(t.name or t.artists for t in data.tracks)
    assert "dropped: no track name and no artist: 1" in data.report.render()


def test_placeholders_become_missing_never_zero(tmp_path: Path) -> None:
    """'empty_field', -1 and '?' become missing values, and letter keys/modes become numbers."""
    data = load_labelled(music_genre(tmp_path))
    assert data.tracks[0].artists == () and data.tracks[0].duration_ms is None
    assert data.tracks[7].audio_features is not None and "tempo" not in data.tracks[7].audio_features
    assert data.tracks[1].audio_features is not None
    assert data.tracks[1].audio_features["key"] == 9.0 and data.tracks[1].audio_features["mode"] == 0.0
    assert "tempo: placeholder or out of range -> missing" in data.report.render()


def test_exportify_artists_split_on_commas_but_not_escaped_ones(tmp_path: Path) -> None:
    """Exportify joins artists with commas and escapes the commas inside a name."""
    rows = load_rows(exportify(tmp_path, with_audio=False))
    assert rows.tracks[0].artists[-1] == "Tyler, The Creator" and len(rows.tracks[0].artists) == 2


def test_rows_to_classify_keep_every_input_row_in_order(tmp_path: Path) -> None:
    """Prediction input is never merged or dropped: one song per row, even an empty one."""
    source = thirty_k(tmp_path)
    rows = load_rows(source)
    assert len(rows.tracks) == len(rows.frame) == 242
    assert rows.tracks[-1].name == "" and rows.tracks[-1].artists == ()


def test_unrecognisable_columns_are_refused(tmp_path: Path) -> None:
    """A CSV without a name and an artist column gets a message naming what was expected."""
    bad = write(tmp_path / "bad.csv", ["a", "b"], [[1, 2]])
    with pytest.raises(DataError, match="no track name column .* and no artists column"):
        load_labelled(bad)


# Exportify's base header in German and Japanese (watsonbox/exportify src/i18n/locales/{de,ja}): the
# names change with the language, "URI" and "ISRC" stay.
LOCALISED_EXPORTIFY = {
    "de": ["Track-URI", "Track-Name", "Künstler-URI(s)", "Künstlername(n)", "Album-URI", "Album-Name",
           "Album-Künstler-URI(s)", "Album-Künstlername(n)", "Veröffentlichungsdatum des Albums", "Album-Bild-URL",
           "Disc-Nummer", "Track-Nummer", "Track-Dauer (ms)", "Track-Vorschau-URL", "Explizit", "Beliebtheit", "ISRC",
           "Hinzugefügt von", "Hinzugefügt am"],
    "ja": ["トラックURI", "トラック名", "アーティストURI", "アーティスト名", "アルバムURI", "アルバム名", "アルバムアーティストURI",
           "アルバムアーティスト名", "アルバム発売日", "アルバム画像URL", "ディスク番号", "トラック番号", "トラックの長さ（ミリ秒）",
           "トラックプレビューURL", "明示的な内容", "人気度", "ISRC", "追加者", "追加日時"],
}


@pytest.mark.parametrize("language", sorted(LOCALISED_EXPORTIFY))
def test_an_exportify_export_in_another_language_is_refused_saying_how_to_get_one_we_read(
    tmp_path: Path, language: str
) -> None:
    """Only Exportify's English column names are read (../shared/specs/README.md); a file exported in
    another language is told to switch Exportify to English, not only which columns are missing."""
    header = LOCALISED_EXPORTIFY[language]
    export = write(tmp_path / "export.csv", header, [["spotify:track:1", "Lied", "spotify:artist:2", "Band", *[""] * 15]])
    with pytest.raises(DataError, match="Exportify export in another language: switch Exportify to English"):
        load_rows(export)


def test_single_class_labels_are_refused(tmp_path: Path) -> None:
    """Training data with one genre cannot train a classifier."""
    one = write(tmp_path / "one.csv", ["track_name", "artists", "genre"], [["x", "y", "rock"], ["z", "w", "rock"]])
    with pytest.raises(DataError, match="fewer than two classes"):
        load_labelled(one)
