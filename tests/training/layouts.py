"""Synthetic CSVs in every public layout the loader knows (no data rows from ../shared)."""

from __future__ import annotations

import csv
import gzip
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

from music import Track

GENRES = {"rock": ["hard rock", "album rock"], "latin": ["reggaeton", "tropical"], "rap": ["trap", "gangster rap"]}
WORDS = {"rock": "guitar thunder highway stone", "latin": "corazón fuego baila amor", "rap": "money street flow trap"}
AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo"]


class SyntheticSong(TypedDict):
    """One made-up song: the fields every layout below writes in its own columns."""

    id: str
    name: str
    artist: str
    album: str
    date: str
    duration: int
    genre: str
    sub: str
    audio: list[float]  # AUDIO's eleven values, in that order


def songs(n: int = 240, seed: int = 3) -> list[SyntheticSong]:
    rng = random.Random(seed)
    out: list[SyntheticSong] = []
    for i in range(n):
        genre = list(GENRES)[i % 3]
        words = WORDS[genre].split()
        out.append({
            "id": f"{i:022d}", "name": f"{rng.choice(words).title()} {rng.choice(words)} {i}",
            "artist": f"{genre.title()} Artist {i % 17}", "album": f"{rng.choice(words).title()} Album",
            "date": f"{rng.randint(1970, 2020)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "duration": rng.randint(150_000, 300_000), "genre": genre, "sub": GENRES[genre][i % 2],
            "audio": [round(rng.random(), 3) for _ in range(2)] + [rng.randint(0, 11), round(-rng.random() * 10, 2), rng.randint(0, 1)]
                     + [round(rng.random(), 3) for _ in range(5)] + [round(rng.uniform(70, 170), 2)],
        })
    return out


def write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def thirty_k(tmp: Path) -> Path:
    header = ["track_id", "track_name", "track_artist", "track_popularity", "track_album_id", "track_album_name",
              "track_album_release_date", "playlist_name", "playlist_id", "playlist_genre", "playlist_subgenre",
              *AUDIO, "duration_ms"]
    rows = [[s["id"], s["name"], s["artist"], 50, "alb", s["album"], s["date"], "pl", "plid", s["genre"], s["sub"],
             *s["audio"], s["duration"]] for s in songs()]
    rows.append(rows[0][:9] + ["rap", "trap"] + rows[0][11:])  # the same track in a second genre
    rows.append(["", "", "", 0, "", "", "", "", "", "rock", "hard rock", *([""] * 11), ""])  # an empty row
    return write(tmp / "spotify_songs.csv.gz", header, rows)


def kaggle_tracks(tmp: Path) -> Path:
    header = ["", "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit",
              *AUDIO, "time_signature", "track_genre"]
    rows = [[i, s["id"], f"{s['artist']};Guest {i % 5}", s["album"], s["name"], 40, s["duration"], "False",
             *s["audio"], 4, s["genre"]] for i, s in enumerate(songs())]
    return write(tmp / "dataset.csv", header, rows)


def machinehack(tmp: Path, *, classes: dict[str, str] | None = None, audio: bool = True,
                stranger_every: int = 0) -> Path:
    """The Kaggle "Music Genre Classification" (MachineHack) layout: "Artist Name", "Track Name", a
    "duration_in min/ms" column and a numbered "Class" (`classes` maps genre -> what is written;
    by default its number). With `stranger_every`, every nth song is by an artist training never met."""
    written = classes or {genre: str(number) for number, genre in enumerate(GENRES)}
    header = ["Artist Name", "Track Name", "Popularity", *(AUDIO if audio else []), "duration_in min/ms",
              "time_signature", "Class"]
    rows = [[f"Stranger {i}" if stranger_every and i % stranger_every == 0 else s["artist"], s["name"], 50,
             *(s["audio"] if audio else []), s["duration"], 4, written[s["genre"]]] for i, s in enumerate(songs())]
    return write(tmp / f"machinehack-{'audio' if audio else 'names'}-{stranger_every}-{len(written)}.csv", header, rows)


def spotify_features(tmp: Path) -> Path:
    header = ["genre", "artist_name", "track_name", "track_id", "popularity", "acousticness", "danceability",
              "duration_ms", "energy", "instrumentalness", "key", "liveness", "loudness", "mode", "speechiness",
              "tempo", "time_signature", "valence"]
    rows = []
    for s in songs():
        a = s["audio"]
        rows.append([s["genre"].title(), s["artist"], s["name"], s["id"], 30, a[6], a[0], s["duration"], a[1], a[7],
                     "C#", a[8], a[3], "Major" if a[4] else "Minor", a[5], a[10], "4/4", a[9]])
    return write(tmp / "SpotifyFeatures.csv", header, rows)


def music_genre(tmp: Path) -> Path:
    header = ["instance_id", "artist_name", "track_name", "popularity", "acousticness", "danceability", "duration_ms",
              "energy", "instrumentalness", "key", "liveness", "loudness", "mode", "speechiness", "tempo",
              "obtained_date", "valence", "music_genre"]
    rows = []
    for i, s in enumerate(songs()):
        a = s["audio"]
        rows.append([i, "empty_field" if i % 20 == 0 else s["artist"], s["name"], 30, a[6], a[0],
                     -1 if i % 10 == 0 else s["duration"], a[1], a[7], "A", a[8], a[3],
                     "Minor", a[5], "?" if i % 7 == 0 else a[10], "4-Apr", a[9], s["genre"].title()])
    return write(tmp / "music_genre.csv", header, rows)


EXPORTIFY_HEADER = ["Track URI", "Track Name", "Artist URI(s)", "Artist Name(s)", "Album URI", "Album Name",
                    "Album Artist URI(s)", "Album Artist Name(s)", "Album Release Date", "Album Image URL",
                    "Disc Number", "Track Number", "Track Duration (ms)", "Track Preview URL", "Explicit",
                    "Popularity", "ISRC", "Added By", "Added At"]


def exportify_of(path: Path, tracks: list[Track]) -> Path:
    """An Exportify export (no audio columns) of these tracks, artists' commas escaped as Exportify does."""
    rows = [[f"spotify:track:{t.id}", t.name, "spotify:artist:x", ", ".join(a.replace(",", "\\,") for a in t.artists),
             "spotify:album:y", t.album, "", "", t.release_date or "", "", 1, 1, t.duration_ms or "", "",
             "true" if t.explicit else "false", 0, "", "", ""] for t in tracks]
    return write(path, EXPORTIFY_HEADER, rows)


def with_episodes(export: Path, count: int) -> Path:
    """`export` (an `exportify_of` file) with `count` podcast episodes appended as Exportify writes a
    playlist's episodes: dressed as tracks by Spotify, a `spotify:episode:` URI, the show as artist
    and album (sandbox/api/objects.py `episode_as_track`)."""
    with export.open("a", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        for n in range(count):
            writer.writerow([f"spotify:episode:{n}pisode0000000000000", f"Episode {n}: interview", "spotify:show:sh",
                             "A Talk Show", "spotify:show:sh", "A Talk Show", "", "", "2026-01-01", "", 0, 0,
                             3_000_000, "", "false", 0, "", "", ""])
    return export


def exportify(tmp: Path, with_audio: bool) -> Path:
    header = list(EXPORTIFY_HEADER)
    if with_audio:
        header += ["Danceability", "Energy", "Key", "Loudness", "Mode", "Speechiness", "Acousticness",
                   "Instrumentalness", "Liveness", "Valence", "Tempo", "Time Signature"]
    rows = []
    for s in songs(30):
        row: list[object] = [f"spotify:track:{s['id']}", s["name"], "spotify:artist:x", s["artist"] + ", Tyler\\, The Creator",
               "spotify:album:y", s["album"], "", "", s["date"], "", 1, 1, s["duration"], "", "true", 0, "", "", ""]
        if with_audio:
            row += [*s["audio"], 4]
        rows.append(row)
    return write(tmp / ("export-audio.csv" if with_audio else "export.csv"), header, rows)


def genrebot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd or Path.cwd())
