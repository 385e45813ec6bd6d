"""Loading and cleaning the public Spotify data-set layouts (and Exportify exports).

Columns are found by name (case- and punctuation-insensitive), with overrides for the label
columns. Cleaning turns placeholders and impossible values into missing values (never a silent
zero) and reports what it dropped or repaired, and why. Two entry points: `load_labelled` for
training and evaluation (drops unusable rows, merges duplicate tracks keeping every label) and
`load_rows` for prediction (one song per input row, whatever it holds).
"""

from __future__ import annotations

import gzip
import re
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.features import AUDIO_FEATURES, AUDIO_RANGES
from training.artist_lists import CommaLists, KnownArtists
from training.csv_input import CsvLayout, InputFileError, file_blocks, file_sha256, inspect_csv, text_encoding


class DataError(Exception):
    """The file cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class SongRow:
    """One song as the classifier sees it (satisfies classifier.TrackLike)."""

    name: str
    artists: tuple[str, ...]
    album: str
    release_date: str | None
    duration_ms: int | None
    explicit: bool | None
    audio_features: Mapping[str, float] | None
    artist_ids: tuple[str, ...] = ()


@dataclass
class CleaningReport:
    rows_read: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str, n: int) -> None:
        if n:
            self.counts[reason] += int(n)

    def render(self) -> str:
        lines = [f"cleaning report: {self.rows_read:,} rows read"]
        lines.extend(f"  - {reason}: {n:,}" for reason, n in sorted(self.counts.items()))
        return "\n".join(lines)


@dataclass
class LoadedRows:
    """Every input row as a song, in input order (what `predict` and `sort --csv` classify)."""

    frame: pd.DataFrame  # the input as read, every column a string
    tracks: list[SongRow]
    columns: dict[str, str]  # role -> the input's column name
    report: CleaningReport
    episodes: np.ndarray  # per row, whether it is a podcast episode (`podcast_episodes`): not a song


@dataclass
class LoadedData:
    """Labelled songs, one per distinct track (what training and evaluation use)."""

    tracks: list[SongRow]
    track_ids: list[str]
    genres: list[tuple[str, ...]]  # every label the track carries, first seen first
    subgenres: list[tuple[str, ...]]  # aligned with genres; empty where the data has none
    has_audio: bool
    report: CleaningReport
    sha256: str
    columns: dict[str, str]


CANDIDATES: dict[str, tuple[str, ...]] = {
    "track_id": ("track_id", "track_uri", "id", "uri", "spotify_id"),
    "name": ("track_name", "name", "song_name", "title", "track"),
    "artists": ("track_artist", "artists", "artist_name", "artist_names", "artist_name_s", "artist"),
    "album": ("track_album_name", "album_name", "album"),
    "release_date": ("track_album_release_date", "album_release_date", "release_date", "year"),
    "duration_ms": ("duration_ms", "track_duration_ms", "duration", "duration_in_min_ms"),
    "explicit": ("explicit",),
    "label": ("playlist_genre", "track_genre", "music_genre", "genre"),
    "subgenre": ("playlist_subgenre", "subgenre"),
}
KEY_LETTERS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
               "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}
PLACEHOLDERS = {"", "?", "empty_field", "nan", "none", "null", "n/a", "-"}
# A text cell is read up to this many characters (a runaway 50 MB cell costs 4 KB from here on;
# the file itself is written back as it was); classifier.features caps each name further.
MAX_FIELD_CHARS = 4096
SONG_ROLES = ("name", "artists", "album", "release_date")  # the text a song needs to be classified
TEXT_ROLES = (*SONG_ROLES, "label", "subgenre")


def _simple(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def find_columns(columns: Sequence[str], overrides: Mapping[str, str | None]) -> dict[str, str]:
    by_simple = {_simple(c): c for c in columns}
    found: dict[str, str] = {}
    for role, names in CANDIDATES.items():
        override = overrides.get(role)
        if override:
            if override not in columns:
                raise DataError(f"column {override!r} (given for {role}) is not in the file")
            found[role] = override
            continue
        for candidate in names:
            if candidate in by_simple:
                found[role] = by_simple[candidate]
                break
    for feature in AUDIO_FEATURES:
        if feature in by_simple:
            found[feature] = by_simple[feature]
    return found


def read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    """The file as strings (nothing guessed), and its sha256.

    `training.csv_input.inspect_csv` looks first: it refuses what is not a CSV in the user's
    words and says how to read the rest (encoding, separator, compression).
    """
    try:
        layout = inspect_csv(path)
    except InputFileError as exc:
        raise DataError(str(exc)) from None
    try:
        try:
            frame = _read_csv(path, layout, encoding=layout.encoding)
        except UnicodeDecodeError:  # UTF-8 at the start, not further on: Windows-1252 reads every byte
            frame = _read_csv(path, layout, encoding="cp1252", encoding_errors="replace")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: export your playlist or Liked Songs again") from None
    except (EOFError, zlib.error, gzip.BadGzipFile):  # a .gz cut short past the head inspect_csv read
        raise DataError(f"{path} is a damaged gzip file") from None
    except pd.errors.ParserWarning:
        raise DataError(f"cannot read {path} as CSV: {FIELDS_PAST_THE_HEADER}") from None
    except (pd.errors.ParserError, OSError) as exc:
        raise DataError(f"cannot read {path} as CSV: {str(exc).splitlines()[0][:200]}") from None
    if frame.empty and len(frame.columns) > 0:
        raise DataError(f"{path} has a header but no rows")
    return frame, file_sha256(path)


# A first row one field longer than the header makes pandas take the first column as the index
# and read every other one a column to the left (titles as artists, an empty trailing field as the
# label). `index_col=False` stops that guess; pandas then drops the extra field with only a
# warning, which is refused here instead: a file is never read other than as it is written.
FIELDS_PAST_THE_HEADER = ("some rows have more fields than the header names (a separator inside a field "
                          "that is not quoted, or one at the end of every line)")


def _read_csv(path: Path, layout: CsvLayout, **options: Any) -> Any:
    """pandas.read_csv as every reader here calls it: every cell a string, as written; a row with a
    field past the header raises pandas' ParserWarning (or ParserError)."""
    with _fields_past_the_header_refused():
        return pd.read_csv(path, dtype=str, keep_default_na=False, escapechar=None, index_col=False,
                           sep=layout.delimiter, compression=layout.compression, **options)


@contextmanager
def _fields_past_the_header_refused() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        yield


def _columns_or_refuse(frame: pd.DataFrame, overrides: Mapping[str, str | None]) -> dict[str, str]:
    columns = find_columns(list(frame.columns), overrides)
    expected = {"name": "track name column (track_name, name or Exportify's Track Name)",
                "artists": "artists column (track_artist, artists, artist_name or Exportify's Artist Name(s))"}
    missing = [text for role, text in expected.items() if role not in columns]
    if missing:
        raise DataError(f"the file has no {' and no '.join(missing)}{_localised_exportify(frame.columns)}")
    return columns


def _localised_exportify(names: Sequence[str]) -> str:
    """What to do about an Exportify export made in another language (its column names translated,
    "URI" and "ISRC" kept as they are): only the English names are read."""
    if "ISRC" in names and any("URI" in name for name in names):
        return ": this is an Exportify export in another language: switch Exportify to English and export again"
    return ""


def _text(frame: pd.DataFrame, columns: Mapping[str, str], role: str, report: CleaningReport) -> pd.Series:
    if role not in columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    series, placeholder = _cleaned(frame[columns[role]])
    if role in ("name", "artists", "album"):
        report.add(f"{role}: placeholder or empty -> missing", int(placeholder.sum()))
    return series


def _cleaned(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as read for a song (capped, stripped, a placeholder empty), and where the placeholders were."""
    series = raw.astype(str).str.slice(0, MAX_FIELD_CHARS).str.strip()
    placeholder = series.str.lower().isin(PLACEHOLDERS)
    return series.where(~placeholder, ""), placeholder


def _numbers(raw: pd.Series) -> pd.Series:
    """Strings to floats; placeholders and anything unparsable become NaN."""
    text = raw.astype(str).str.strip()
    return pd.to_numeric(text.where(~text.str.lower().isin(PLACEHOLDERS)), errors="coerce")


def _durations(frame: pd.DataFrame, columns: Mapping[str, str], report: CleaningReport) -> np.ndarray:
    if "duration_ms" not in columns:
        return np.full(len(frame), np.nan)
    values = np.array(_numbers(frame[columns["duration_ms"]]), dtype=np.float64)
    impossible = ~np.isnan(values) & ((values < 10_000) | (values > 3_600_000))
    report.add("duration: impossible (<10 s, >1 h, -1) -> missing", int(impossible.sum()))
    values[impossible] = np.nan
    return values


def _explicit(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.Series:
    if "explicit" not in columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    flags = frame[columns["explicit"]].astype(str).str.strip().str.lower()
    mapped = flags.map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False})
    return mapped.astype(object).where(mapped.notna(), None)


def _audio(frame: pd.DataFrame, columns: Mapping[str, str], report: CleaningReport) -> np.ndarray:
    """[rows, AUDIO_FEATURES] floats, NaN where absent, a placeholder or out of range."""
    audio = np.full((len(frame), len(AUDIO_FEATURES)), np.nan)
    for j, feature in enumerate(AUDIO_FEATURES):
        if feature not in columns:
            continue
        raw = frame[columns[feature]].astype(str).str.strip()
        values = _numbers(raw)
        if feature == "key":
            values = values.fillna(raw.map(KEY_LETTERS))
        elif feature == "mode":
            values = values.fillna(raw.str.lower().map({"major": 1.0, "minor": 0.0}))
        low, high = AUDIO_RANGES[feature]
        valid = values.between(low, high)
        report.add(f"{feature}: placeholder or out of range -> missing", int((~valid & (raw != "")).sum()))
        audio[:, j] = values.where(valid).to_numpy(dtype=np.float64)
    return audio


def _artist_reading(frame: pd.DataFrame, columns: Mapping[str, str]) -> tuple[str, bool]:
    """How the file joins the artists in a cell, from one look at its artists column: the separator,
    and whether a ", " may also join artists that only their names tell apart (training.artist_lists):
    no artist URIs (Exportify's, which settle it) and no joining with ";" (the Kaggle tracks
    layout's, which leaves ", " to names)."""
    semicolons = bool(frame[columns["artists"]].astype(str).str.contains(";").mean() > 0.01)
    uris = "Artist URI(s)" in frame.columns
    return ("," if uris and not semicolons else ";"), not uris and not semicolons


def _comma_lists(cells: pd.Series, may_join: bool, known_artists: KnownArtists | None) -> CommaLists:
    """How this file's ", " cells are read, from all its cleaned artists cells (`cells`)."""
    if not may_join:
        return CommaLists({})
    return CommaLists.of(cells.unique().tolist(), known_artists)


@lru_cache(maxsize=1 << 16)
def split_artists(value: str, separator: str) -> tuple[str, ...]:
    """A library repeats its artists: each distinct artists cell is split once."""
    if not value:
        return ()
    if separator == ",":
        parts = re.split(r"(?<!\\),\s*", value)
        return tuple(p.replace("\\,", ",").strip() for p in parts if p.strip())
    return tuple(p.strip() for p in value.split(separator) if p.strip())


def _clean(frame: pd.DataFrame, columns: Mapping[str, str], report: CleaningReport, *, labelled: bool = True
           ) -> pd.DataFrame:
    """One cleaned column per role (same index as the input), audio as one object column of dicts.
    Without `labelled` (classifying), the label columns and the track id are left out: nothing reads them."""
    clean = pd.DataFrame({role: _text(frame, columns, role, report) for role in TEXT_ROLES if labelled
                          or role in SONG_ROLES}, index=frame.index)
    clean["duration_ms"] = _durations(frame, columns, report)
    clean["explicit"] = _explicit(frame, columns)
    clean["audio"] = _audio_column(frame, columns, report)
    if not labelled:
        return clean
    clean["label"] = clean["label"].str.lower()
    clean["subgenre"] = clean["subgenre"].str.lower()
    by_name = clean["name"].str.lower() + "|" + clean["artists"].str.lower()
    if "track_id" in columns:
        ids = frame[columns["track_id"]].astype(str).str.strip().str.replace("spotify:track:", "", regex=False)
        # A row without an id (empty, "-", "n/a") is keyed by its name and artists like a file with
        # no id column: an empty id is no track, and every such row sharing it merged them all.
        clean["track_id"] = ids.where(~ids.str.lower().isin(PLACEHOLDERS), by_name)
    else:
        clean["track_id"] = by_name
    return clean


def _audio_column(frame: pd.DataFrame, columns: Mapping[str, str], report: CleaningReport) -> list[dict[str, float] | None]:
    """Per row, its audio features as a dict, or None with fewer than half of them."""
    audio = _audio(frame, columns, report)
    return _audio_dicts(audio, (~np.isnan(audio)).sum(axis=1) >= len(AUDIO_FEATURES) // 2)


def _audio_dicts(audio: np.ndarray, enough: np.ndarray) -> list[dict[str, float] | None]:
    records: list[dict[str, float] | None] = [None] * len(audio)
    names = AUDIO_FEATURES
    for row in np.flatnonzero(enough):
        values = audio[row]
        records[row] = {names[j]: float(values[j]) for j in np.flatnonzero(~np.isnan(values))}
    return records


def _songs(clean: pd.DataFrame, separator: str, lists: CommaLists) -> list[SongRow]:
    durations = [None if np.isnan(d) else int(d) for d in clean["duration_ms"].to_numpy(dtype=np.float64)]
    listed = lists.lists.get  # a dict look-up per row; empty (Exportify, ";" files) unless the file has lists
    return [
        SongRow(name=name, artists=listed(artists) or split_artists(artists, separator), album=album,
                release_date=date or None,
                duration_ms=duration, explicit=explicit, audio_features=audio)
        for name, artists, album, date, duration, explicit, audio in zip(
            *(clean[c].tolist() for c in ("name", "artists", "album", "release_date")), durations,
            clean["explicit"].tolist(), clean["audio"].tolist(), strict=True)
    ]  # columns as lists: iterating a pandas string column costs a Python call per cell


def podcast_episodes(frame: pd.DataFrame, columns: Mapping[str, str]) -> np.ndarray:
    """Per row, whether it is a podcast episode rather than a song. A playlist's episodes reach an
    export dressed as tracks (what Spotify gives a client that leaves them out of `additional_types`):
    a row like a song's, the show as artist and album, told apart only by its `spotify:episode:` URI."""
    if "track_id" not in columns:
        return np.zeros(len(frame), dtype=bool)
    uris = frame[columns["track_id"]].astype(str).str.strip()
    return uris.str.startswith("spotify:episode:").to_numpy(dtype=bool)


def count_rows(path: Path) -> int:
    """About how many rows the file has (its line count less the header), read in blocks: for a
    progress bar's estimate of the time left, not for anything exact."""
    try:
        layout = inspect_csv(Path(path))
    except InputFileError as exc:
        raise DataError(str(exc)) from None
    try:
        lines = sum(block.count(b"\n") for block in file_blocks(Path(path), layout))
    except InputFileError as exc:
        raise DataError(str(exc)) from None
    return max(lines - 1, 0)


def iter_frames(path: Path, rows_per_chunk: int, *, column: int | None = None) -> Iterator[pd.DataFrame]:
    """The file as read (every column a string, nothing cleaned), `rows_per_chunk` rows at a time,
    each chunk indexed by the file's own row numbers: what a writer copying rows back out needs,
    refused in the same words as `iter_rows`. With `column`, only that column (by position) is parsed."""
    path = Path(path)
    try:
        layout = inspect_csv(path)
        encoding = text_encoding(path, layout)  # decided before the first chunk
    except InputFileError as exc:
        raise DataError(str(exc)) from None
    try:
        only = {} if column is None else {"usecols": [column]}
        with _read_csv(path, layout, encoding=encoding, chunksize=rows_per_chunk, **only) as reader:
            rows = 0
            while True:
                with _fields_past_the_header_refused():  # only around pandas' own work, not the yield
                    frame = next(reader, None)
                if frame is None:
                    break
                if len(frame):
                    rows += len(frame)
                    yield frame
        if not rows:
            raise DataError(f"{path} has a header but no rows")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: export your playlist or Liked Songs again") from None
    except pd.errors.ParserWarning:
        raise DataError(f"cannot read {path} as CSV: {FIELDS_PAST_THE_HEADER}") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"cannot read {path} as CSV: {str(exc).splitlines()[0][:200]}") from None


def iter_rows(path: Path, rows_per_chunk: int, *, known_artists: KnownArtists | None = None) -> Iterator[LoadedRows]:
    """`load_rows`, `rows_per_chunk` rows at a time (each chunk's frame keeps the file's own row
    numbers as its index): a 200 MB export is never held in memory whole. A file of several chunks
    whose artists cells may be joined with ", " has its artists column read first, alone, so each
    cell is read by the whole file's names (training.artist_lists), whichever chunk it is in."""
    columns: dict[str, str] | None = None
    separator = ","
    lists = CommaLists({})
    for frame in iter_frames(path, rows_per_chunk):
        report = CleaningReport(rows_read=len(frame))
        if columns is None:
            columns = _columns_or_refuse(frame, {})
            separator, may_join = _artist_reading(frame, columns)
            clean = _clean(frame, columns, report, labelled=False)
            if may_join:
                cells = clean["artists"] if len(frame) < rows_per_chunk else _artist_cells(path, frame, columns)
                lists = CommaLists.of(cells.unique().tolist(), known_artists)
        else:
            clean = _clean(frame, columns, report, labelled=False)
        yield LoadedRows(frame, _songs(clean, separator, lists), columns, report, podcast_episodes(frame, columns))


def _artist_cells(path: Path, frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.Series:
    """The distinct artists cells of the whole file, cleaned as a song's, read one column at a time."""
    position = list(frame.columns).index(columns["artists"])
    cells = [_cleaned(chunk.iloc[:, 0])[0].unique() for chunk in iter_frames(path, 1 << 16, column=position)]
    return pd.Series(np.concatenate(cells) if cells else [], dtype=object)


def load_rows(path: Path, *, known_artists: KnownArtists | None = None) -> LoadedRows:
    """Every row of a CSV to classify, in order; nothing is dropped or merged."""
    frame, _ = read_csv(Path(path))
    columns = _columns_or_refuse(frame, {})
    report = CleaningReport(rows_read=len(frame))
    clean = _clean(frame, columns, report, labelled=False)
    separator, may_join = _artist_reading(frame, columns)
    return LoadedRows(frame, _songs(clean, separator, _comma_lists(clean["artists"], may_join, known_artists)),
                      columns, report, podcast_episodes(frame, columns))


def load_labelled(path: Path, *, label_column: str | None = None, subgenre_column: str | None = None,
                  min_classes: int = 2, known_artists: KnownArtists | None = None) -> LoadedData:
    """Labelled songs for training or scoring: unusable rows dropped, duplicate tracks merged.
    Training needs two classes at least; scoring (`min_classes=1`) a file of one genre is fair.
    `known_artists` (scoring: the model's check) helps read artists joined with ", " (training.artist_lists);
    training has no model yet and reads them by the file's own names alone."""
    frame, digest = read_csv(Path(path))
    columns = _columns_or_refuse(frame, {"label": label_column, "subgenre": subgenre_column})
    if "label" not in columns:
        raise DataError(
            "no label column: expected playlist_genre, track_genre, music_genre or genre (or pass --label-column)"
        )
    report = CleaningReport(rows_read=len(frame))
    clean = _clean(frame, columns, report)
    no_song = (clean["name"] == "") & (clean["artists"] == "")
    report.add("dropped: no track name and no artist", int(no_song.sum()))
    unlabelled = (clean["label"] == "") & ~no_song
    report.add("dropped: no label", int(unlabelled.sum()))
    kept = clean[~no_song & ~unlabelled]

    groups = kept.groupby("track_id", sort=False)
    firsts = groups.head(1)
    merged_labels = groups["label"].agg(lambda s: tuple(dict.fromkeys(x for x in s if x)))
    merged_subs = groups["subgenre"].agg(lambda s: tuple(dict.fromkeys(x for x in s if x)))
    report.add("merged: duplicate rows of the same track", len(kept) - len(firsts))
    report.add("tracks with several genres (all kept for evaluation)", int((merged_labels.map(len) > 1).sum()))
    genre_sets = list(merged_labels[firsts["track_id"]])
    classes = len({g[0] for g in genre_sets if g})
    if classes < min_classes:
        raise DataError("the label column has no labels" if classes == 0 else "the label column has fewer than two classes")
    separator, may_join = _artist_reading(frame, columns)
    return LoadedData(
        tracks=_songs(firsts, separator, _comma_lists(clean["artists"], may_join, known_artists)),
        track_ids=list(firsts["track_id"]),
        genres=genre_sets,
        subgenres=list(merged_subs[firsts["track_id"]]) if "subgenre" in columns else [() for _ in genre_sets],
        has_audio=any(f in columns for f in AUDIO_FEATURES),
        report=report,
        sha256=digest,
        columns=columns,
    )
