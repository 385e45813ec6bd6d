"""Libraries to seed sandbox users with: a hand-written demo library and synthetic ones.

The demo library (`data/demo_library.tsv`) lists 442 songs across all 20 families with their
public facts (title, artists, album, release date, duration, explicit), written by hand; the
genre column is what a listener would call it (a family, or one of the 30k set's six genres),
used only to check the demo's results and, as songs neither training set was sampled for, the
shipped model (tests/classifier/test_inference.py, the model card). The
demo member's own playlist (`data/demo_playlist.tsv`) mixes some of those with songs they never
liked. The synthetic generator makes large, deterministic libraries for tests and benchmarks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources

from music import Track
from sandbox.records import spotify_id


@dataclass(frozen=True)
class DemoSong:
    genre: str
    track: Track


def _rows(name: str) -> list[list[str]]:
    text = resources.files("sandbox").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _song(fields: list[str]) -> DemoSong:
    genre, title, artists, album, date, duration, explicit = fields
    minutes, seconds = duration.split(":")
    names = tuple(a.strip() for a in artists.split(";"))
    track = Track(
        id=spotify_id(f"track:{title}:{artists}:{album}"),
        name=title,
        artists=names,
        artist_ids=tuple(spotify_id(f"artist:{n}") for n in names),
        album=album,
        release_date=date,
        duration_ms=(int(minutes) * 60 + int(seconds)) * 1000,
        explicit=explicit == "1",
    )
    return DemoSong(genre, track)


def demo_songs() -> list[DemoSong]:
    return [_song(fields) for fields in _rows("demo_library.tsv")]


def demo_playlist_songs() -> list[DemoSong]:
    """The demo member's "Road Trip" playlist, in order: 25 of their Liked Songs and 12 songs
    they never liked, so sorting it differs from sorting Liked Songs yet shares songs with it."""
    liked = {(s.track.name, "; ".join(s.track.artists)): s for s in demo_songs()}
    songs = []
    for fields in _rows("demo_playlist.tsv"):
        if fields[0] == "liked":
            songs.append(liked[(fields[1], fields[2])])
        else:
            songs.append(_song(fields))
    return songs


def demo_library(seed: int = 7) -> list[Track]:
    """The demo songs in a shuffled but fixed order, as a person's Liked Songs would be."""
    tracks = [song.track for song in demo_songs()]
    random.Random(seed).shuffle(tracks)
    return tracks


_WORDS = (
    "love night fire heart dance dream city summer rain gold wild light fade run home baby "
    "corazón noche fuego baila amor vida calle luna sol ritmo beat drop bass trap flow money "
    "street crown ghost river stone highway thunder electric neon echo"
).split()


def synthetic_library(count: int, *, seed: int = 1, prefix: str = "syn") -> list[Track]:
    """`count` plausible, distinct tracks with stable ids; no audio features."""
    rng = random.Random(seed)
    artists = [f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}" for _ in range(max(10, count // 12))]
    tracks = []
    for index in range(count):
        artist = rng.choice(artists)
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4))).title()
        year = rng.randint(1965, 2026)
        tracks.append(
            Track(
                id=spotify_id(f"{prefix}:{seed}:{index}"),
                name=title,
                artists=(artist,),
                artist_ids=(spotify_id(f"artist:{artist}"),),
                album=f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}",
                release_date=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                duration_ms=rng.randint(120_000, 330_000),
                explicit=rng.random() < 0.2,
            )
        )
    return tracks
