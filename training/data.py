"""Loading and cleaning the public Spotify data-set layouts (and Exportify exports).

Columns are found by name (case- and punctuation-insensitive), with overrides for the label
columns. Cleaning turns placeholders and impossible values into missing values (never a silent
zero), merges duplicate tracks (a track listed under several genres keeps all of them for
evaluation) and reports what it dropped or repaired, and why.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from classifier.features import AUDIO_FEATURES


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
class LoadedData:
    frame: pd.DataFrame  # the input, cleaned, one row per input row (for predict)
    tracks: list[SongRow]
    track_ids: list[str]
    genres: list[tuple[str, ...]]  # per merged track; empty when unlabelled
    subgenres: list[tuple[str, ...]]  # aligned with genres where the data has subgenres
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
    "duration_ms": ("duration_ms", "track_duration_ms", "duration"),
    "explicit": ("explicit",),
    "label": ("playlist_genre", "track_genre", "music_genre", "genre"),
    "subgenre": ("playlist_subgenre", "subgenre"),
}
KEY_LETTERS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
               "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}
AUDIO_RANGES = {"danceability": (0, 1), "energy": (0, 1), "speechiness": (0, 1), "acousticness": (0, 1),
                "instrumentalness": (0, 1), "liveness": (0, 1), "valence": (0, 1), "key": (0, 11),
                "mode": (0, 1), "loudness": (-70, 10), "tempo": (1, 300)}
PLACEHOLDERS = {"", "?", "empty_field", "nan", "none", "null", "n/a", "-"}


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


def _read(path: Path) -> tuple[pd.DataFrame, str]:
    if not path.exists():
        raise DataError(f"no such file: {path}")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, escapechar=None)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise DataError(f"cannot read {path} as CSV: {type(exc).__name__}") from None
    return frame, digest


def _split_artists(value: str, separator: str) -> tuple[str, ...]:
    if separator == ",":
        parts = re.split(r"(?<!\\),\s*", value)
        return tuple(p.replace("\\,", ",").strip() for p in parts if p.strip())
    return tuple(p.strip() for p in value.split(separator) if p.strip())


def _number(value: str) -> float | None:
    text = value.strip()
    if text.lower() in PLACEHOLDERS:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def load(
    path: Path,
    *,
    label_column: str | None = None,
    subgenre_column: str | None = None,
    require_labels: bool = True,
    merge_duplicates: bool = True,
    keep_all_rows: bool = False,
) -> LoadedData:
    frame, digest = _read(Path(path))
    columns = find_columns(list(frame.columns), {"label": label_column, "subgenre": subgenre_column})
    if "name" not in columns or "artists" not in columns:
        raise DataError(
            "no recognisable columns: expected a track name (track_name, name, Track Name) and artists "
            f"(track_artist, artists, artist_name, Artist Name(s)); found {', '.join(list(frame.columns)[:12])}"
        )
    if require_labels and "label" not in columns:
        raise DataError(
            "no label column: expected playlist_genre, track_genre, music_genre or genre (or pass --label-column)"
        )
    report = CleaningReport(rows_read=len(frame))
    artist_col = frame[columns["artists"]].astype(str)
    separator = ";" if artist_col.str.contains(";").mean() > 0.01 else ("," if "Artist URI(s)" in frame.columns else ";")

    def text(role: str) -> pd.Series:
        if role not in columns:
            return pd.Series([""] * len(frame))
        series = frame[columns[role]].astype(str).str.strip()
        placeholder = series.str.lower().isin(PLACEHOLDERS)
        report.add(f"{role}: placeholder or empty -> missing", int(placeholder.sum()) if role in ("name", "artists", "album") else 0)
        return series.where(~placeholder, "")

    names, artists, albums = text("name"), text("artists"), text("album")
    dates = text("release_date") if "release_date" in columns else pd.Series([""] * len(frame))
    labels = text("label").str.lower() if "label" in columns else pd.Series([""] * len(frame))
    subs = text("subgenre").str.lower() if "subgenre" in columns else pd.Series([""] * len(frame))
    ids = frame[columns["track_id"]].astype(str).str.replace("spotify:track:", "", regex=False) if "track_id" in columns else None

    durations: list[int | None] = []
    bad_duration = 0
    for value in (frame[columns["duration_ms"]] if "duration_ms" in columns else [""] * len(frame)):
        number = _number(str(value))
        if number is None or not 10_000 <= number <= 3_600_000:
            bad_duration += number is not None
            durations.append(None)
        else:
            durations.append(int(number))
    report.add("duration: impossible (<10 s, >1 h, -1) -> missing", bad_duration)

    explicit: list[bool | None] = []
    for value in (frame[columns["explicit"]] if "explicit" in columns else [""] * len(frame)):
        flag = str(value).strip().lower()
        explicit.append(True if flag in ("true", "1", "yes") else False if flag in ("false", "0", "no") else None)

    audio_cols = [f for f in AUDIO_FEATURES if f in columns]
    audio_rows: list[dict[str, float] | None] = []
    repaired = Counter[str]()
    for index in range(len(frame)):
        values: dict[str, float] = {}
        for feature in audio_cols:
            raw = str(frame.iat[index, frame.columns.get_loc(columns[feature])]).strip()
            number = None
            if feature == "key" and raw in KEY_LETTERS:
                number = float(KEY_LETTERS[raw])
            elif feature == "mode" and raw.lower() in ("major", "minor"):
                number = 1.0 if raw.lower() == "major" else 0.0
            else:
                number = _number(raw)
            low, high = AUDIO_RANGES[feature]
            if number is None or not low <= number <= high:
                repaired[f"{feature}: placeholder or out of range -> missing"] += 1 if raw else 0
                continue
            values[feature] = number
        audio_rows.append(values if len(values) >= len(AUDIO_FEATURES) // 2 else None)
    for reason, n in repaired.items():
        report.add(reason, n)

    clean = pd.DataFrame({"name": names, "artists": artists, "album": albums, "release_date": dates,
                          "label": labels, "subgenre": subs})
    clean["duration_ms"] = durations
    clean["explicit"] = explicit
    clean["audio"] = audio_rows
    clean["track_id"] = ids if ids is not None else (names.str.lower() + "|" + artists.str.lower())
    unusable = (clean["name"] == "") & (clean["artists"] == "")
    if keep_all_rows:  # predicting: one output row per input row, whatever it holds
        unusable[:] = False
    report.add("dropped: no track name and no artist", int(unusable.sum()))
    if require_labels:
        unlabelled = clean["label"] == ""
        report.add("dropped: no label", int((unlabelled & ~unusable).sum()))
        unusable |= unlabelled
    kept = clean[~unusable]

    if merge_duplicates:
        groups = kept.groupby("track_id", sort=False)
        firsts = groups.head(1)
        merged_labels = groups["label"].agg(lambda s: tuple(dict.fromkeys(x for x in s if x)))
        merged_subs = groups["subgenre"].agg(lambda s: tuple(dict.fromkeys(x for x in s if x)))
        report.add("merged: duplicate rows of the same track", len(kept) - len(firsts))
        multi = int((merged_labels.map(len) > 1).sum())
        report.add("tracks with several genres (all kept for evaluation)", multi)
        rows = firsts
        genre_sets = [merged_labels[t] for t in rows["track_id"]]
        sub_sets = [merged_subs[t] for t in rows["track_id"]]
    else:
        rows = kept
        genre_sets = [(x,) if x else () for x in rows["label"]]
        sub_sets = [(x,) if x else () for x in rows["subgenre"]]

    tracks = [
        SongRow(
            name=r.name,
            artists=_split_artists(r.artists, separator) if r.artists else (),
            album=r.album,
            release_date=r.release_date or None,
            duration_ms=None if r.duration_ms is None or (isinstance(r.duration_ms, float) and math.isnan(r.duration_ms)) else int(r.duration_ms),
            explicit=r.explicit if isinstance(r.explicit, bool) else None,
            audio_features=r.audio if isinstance(r.audio, dict) else None,
        )
        for r in rows.itertuples(index=False)
    ]
    if require_labels and len({g[0] for g in genre_sets if g}) < 2:
        raise DataError("the label column has fewer than two classes")
    return LoadedData(
        frame=frame,
        tracks=tracks,
        track_ids=list(rows["track_id"]),
        genres=genre_sets,
        subgenres=sub_sets if "subgenre" in columns else [() for _ in genre_sets],
        has_audio=bool(audio_cols),
        report=report,
        sha256=digest,
        columns=columns,
    )


def primary_artist_key(track: SongRow) -> str:
    return track.artists[0].casefold() if track.artists else ""


def summarise(values: Sequence[Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in Counter(values).most_common())
