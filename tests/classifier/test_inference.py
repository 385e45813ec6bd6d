"""Loading a model directory and classifying with it (classifier/inference.py), on the shipped model."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from classifier import Classifier, ModelLoadError
from classifier.catalogue import GenreCounts
from classifier.features import featurise
from classifier.inference import default_model_dir, model_version_digest
from classifier.library import library_keys
from classifier.text import key_hash, primary_artist
from sandbox.library import demo_songs


@dataclass(frozen=True)
class Song:
    name: str
    artists: tuple[str, ...]
    album: str = ""
    release_date: str | None = None
    duration_ms: int | None = None
    explicit: bool | None = None
    audio_features: dict[str, float] | None = None


DESPACITO = Song("Despacito", ("Luis Fonsi",), "Vida", "2017", 228000, False)
ENTER_SANDMAN = Song("Enter Sandman", ("Metallica",), "Metallica", "1991-08-12", 331000, False)
SO_WHAT = Song("So What", ("Miles Davis",), "Kind of Blue", "1959-08-17", 562000, False)
SONGS = [DESPACITO, ENTER_SANDMAN, SO_WHAT]
NOBODY = Song("Blue Train Variations", ("An Artist Nobody Knows",), "Night Sessions", "1962", 400000)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def test_songs_any_listener_can_place_land_in_their_family_and_genre(classifier: Classifier) -> None:
    """Despacito is Latin; Enter Sandman is hard rock, as both training sets file Metallica."""
    predictions = classifier.classify([DESPACITO, ENTER_SANDMAN])
    assert [p.genre for p in predictions] == ["latin", "rock"]
    assert predictions[1].subgenre == "hard-rock"


def test_the_genre_is_always_a_child_of_the_family(classifier: Classifier) -> None:
    """A prediction's genre (subgenre field) lies under its family (genre field)."""
    for p in classifier.classify(SONGS * 3, library=True):
        assert p.subgenre in classifier.taxonomy.children[p.genre]
        assert 0 < (p.subgenre_confidence or 0) <= p.genre_confidence <= 1
        assert abs(sum(p.genre_probabilities.values()) - 1) < 1e-3
        assert set(p.genre_probabilities) == set(classifier.taxonomy.families)


def test_per_track_probabilities_are_float32_rows_over_the_genres(classifier: Classifier) -> None:
    """What the bot caches: one float32 vector per track, in `classifier.genres` order, summing to 1."""
    probabilities = classifier.genre_probabilities(SONGS)
    assert probabilities.shape == (3, len(classifier.genres)) and probabilities.dtype == np.float32
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)


def test_classify_is_predictions_of_the_per_track_probabilities(classifier: Classifier) -> None:
    """Caching vectors and predicting later gives what classify gives, per song and as a library."""
    probabilities = classifier.genre_probabilities(SONGS)
    assert classifier.classify(SONGS) == classifier.predictions(probabilities)
    assert classifier.classify(SONGS, library=True) == classifier.predictions(classifier.pool(SONGS, probabilities))


def test_float16_cached_vectors_give_the_same_predictions(classifier: Classifier) -> None:
    """Vectors stored as float16 blobs predict the same families and genres."""
    probabilities = classifier.genre_probabilities(SONGS)
    again = classifier.predictions(probabilities.astype(np.float16).astype(np.float32))
    assert [(p.genre, p.subgenre) for p in again] == [(p.genre, p.subgenre) for p in classifier.predictions(probabilities)]


def test_an_infinite_audio_feature_gives_probabilities_and_leaves_its_artists_other_songs_alone(
        classifier: Classifier) -> None:
    """A song whose tempo came as Infinity (JSON's, which Python reads) is classified like one
    without a tempo; it made its row NaN, and pooled as a library, every song of its artist."""
    audio = {"danceability": 0.5, "energy": 0.9, "key": 4, "loudness": -5.0, "mode": 1, "speechiness": 0.05,
             "acousticness": 0.01, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.4}
    odd = replace(ENTER_SANDMAN, audio_features={**audio, "tempo": float("inf")})
    plain = replace(ENTER_SANDMAN, audio_features=audio)
    other = replace(ENTER_SANDMAN, name="Sad but True")
    probabilities = classifier.genre_probabilities([odd, other])
    assert np.array_equal(probabilities, classifier.genre_probabilities([plain, other]))
    pooled = classifier.pool([odd, other], probabilities)
    assert np.isfinite(pooled).all() and np.allclose(pooled.sum(axis=1), 1, atol=1e-5)


def test_no_tracks_give_no_predictions(classifier: Classifier) -> None:
    """An empty library is classified as an empty list, not an error."""
    assert classifier.classify([]) == [] and classifier.genre_probabilities([]).shape == (0, len(classifier.genres))


def test_shipped_model_is_safetensors_json_and_its_taxonomy() -> None:
    """No pickle in the model directory; the taxonomy travels with the weights."""
    assert {p.name for p in default_model_dir().iterdir()} == {"model.safetensors", "model.json", "taxonomy.json"}


def test_a_loaded_network_holds_exactly_the_weights_its_file_stores(classifier: Classifier) -> None:
    """Every weight of the network, the token table included (it is not drawn at random on
    loading, only read), is the file's."""
    stored = load_file(str(default_model_dir() / "model.safetensors"))
    loaded = classifier.parts.net.state_dict()
    assert set(loaded) == {name[len("net."):] for name in stored if name.startswith("net.")}
    for name, tensor in loaded.items():
        assert torch.equal(tensor, stored[f"net.{name}"].float()), name


def test_a_weights_file_without_the_token_table_is_refused(tmp_path: Path) -> None:
    """A file missing one of the network's weights is refused, not classified with an unset table."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    tensors = load_file(str(tmp_path / "m" / "model.safetensors"))
    del tensors["net.tokens.weight"]
    save_file(tensors, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(ModelLoadError, match="does not match this genrebot"):
        Classifier.load(tmp_path / "m")


def test_unreadable_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A directory that is not a genrebot model is refused with a message saying so."""
    (tmp_path / "model.json").write_text('{"format": "something-else"}')
    with pytest.raises(ModelLoadError, match="not a genrebot model"):
        Classifier.load(tmp_path)


@pytest.mark.parametrize(("key", "value"), [
    ("version", None), ("pooling", {"artist": 0.9, "album": 0.5}), ("pooling", "artist"), ("temperature", "abc"),
    ("name_blend", {"weight": 1}), ("decision_sharpness", [3.0]), ("new_artist_genre_balance", {"pop": "x"}),
])
def test_a_model_json_whose_deciding_values_cannot_be_read_is_refused_in_one_line(
        tmp_path: Path, key: str, value: object) -> None:
    """A model.json without its version (None: the key removed), or with a deciding value that
    cannot be one (a hand edit, another tool's file) is a ModelLoadError naming the directory,
    not a KeyError, TypeError or ValueError traceback from `genrebot predict --model` or the bot's start."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    if value is None:
        meta.pop(key)
    else:
        meta[key] = {**meta[key], **value} if key == "new_artist_genre_balance" else value  # type: ignore[dict-item]
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=str(tmp_path / "m")):
        Classifier.load(tmp_path / "m")


def test_a_model_from_an_older_genrebot_asks_to_be_retrained(tmp_path: Path) -> None:
    """The previous six-genre format is named as such, not as a crash."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["format"] = "genrebot-model/1"
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="older genrebot: retrain"):
        Classifier.load(tmp_path / "m")


def test_a_model_without_decision_sharpness_decides_as_blended(tmp_path: Path) -> None:
    """A model.json from before the decision sharpness loads and answers with its blend unsharpened."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta.pop("decision_sharpness", None)
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    assert Classifier.load(tmp_path / "m").sharpness == 1.0


def test_the_decision_sharpness_changes_the_answers_and_so_the_version(tmp_path: Path) -> None:
    """Same weights, sharper decisions: different probabilities, so a different version (the bot caches per version)."""
    plain = Classifier.load()
    sharp = Classifier(plain.parts, {**plain.metadata, "decision_sharpness": plain.sharpness * 2})
    assert not np.allclose(plain.genre_probabilities(SONGS), sharp.genre_probabilities(SONGS))
    weights = plain.metadata["weights_sha256"]
    assert model_version_digest(weights, plain.metadata) != model_version_digest(weights, sharp.metadata)


def test_a_model_without_new_artist_balance_answers_without_it(tmp_path: Path) -> None:
    """A model.json from before the new-artist genre balance loads and answers with none."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta.pop("new_artist_genre_balance", None)
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    assert Classifier.load(tmp_path / "m").new_artist_balance is None


def test_a_balance_naming_other_genres_is_refused_on_load(tmp_path: Path) -> None:
    """A hand-edited balance that misses a genre fails loudly rather than weighting the wrong genres."""
    shutil.copytree(default_model_dir(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["new_artist_genre_balance"] = {"jazz": 1.0}
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="new_artist_genre_balance"):
        Classifier.load(tmp_path / "m")


def test_the_new_artist_balance_moves_only_new_artists_genres_and_so_the_version() -> None:
    """Weighting one genre far up within its family: a song by an artist the model never met moves
    to that genre, its family untouched; a known artist's song does not move; the version changes."""
    plain = Classifier.load()
    new_artist = NOBODY
    songs = [ENTER_SANDMAN, new_artist]
    assert list(plain.parts.artists.rows(featurise(songs, plain.parts.schema).artist_keys) >= 0) == [True, False]
    before = plain.predictions(plain.genre_probabilities(songs))
    family_genres = plain.taxonomy.children[before[1].genre]
    other = next(g for g in family_genres if g != before[1].subgenre)
    balance = {g: (12.0 if g == other else 0.0) for g in plain.genres}
    balanced = Classifier(plain.parts, {**plain.metadata, "new_artist_genre_balance": balance})
    after = balanced.predictions(balanced.genre_probabilities(songs))
    assert after[0] == before[0]
    assert after[1].genre == before[1].genre and after[1].subgenre == other
    assert abs(after[1].genre_confidence - before[1].genre_confidence) < 1e-5
    weights = plain.metadata["weights_sha256"]
    assert model_version_digest(weights, plain.metadata) != model_version_digest(weights, balanced.metadata)


def test_known_artists_tells_training_set_artists_from_a_made_up_one(classifier: Classifier) -> None:
    """Luis Fonsi, Metallica and Miles Davis are in the training sets' artist table; a made-up artist is not."""
    assert classifier.known_artists(library_keys([*SONGS, NOBODY])[0]).tolist() == [True, True, True, False]


def test_known_artists_goes_by_the_primary_artist_as_the_features_do(classifier: Classifier) -> None:
    """Case and spaces do not matter; a known artist credited second, or no artist at all, is not known."""
    songs = [Song("One", ("  METALLICA ",)), Song("Two", ("An Artist Nobody Knows", "Metallica")), Song("Three", ())]
    assert classifier.known_artists(library_keys(songs)[0]).tolist() == [True, False, False]
    batch_keys = featurise([*songs, *SONGS], classifier.parts.schema).artist_keys
    assert classifier.known_artists(batch_keys).tolist() == [True, False, False, True, True, True]


def test_known_artists_reads_the_loaded_models_own_artist_table(classifier: Classifier) -> None:
    """A model whose table holds only the made-up artist knows it, and no longer Metallica."""
    only_nobody = GenreCounts.from_dense(np.array([key_hash(primary_artist(NOBODY.artists))]),
                                         np.ones((1, len(classifier.genres)), dtype=np.float32))
    other = Classifier(replace(classifier.parts, artists=only_nobody), classifier.metadata)
    assert other.known_artists(library_keys([ENTER_SANDMAN, NOBODY])[0]).tolist() == [False, True]


def test_no_songs_have_no_known_artists(classifier: Classifier) -> None:
    """An empty library gives an empty mask, not an error."""
    assert classifier.known_artists(np.zeros(0, dtype=np.int64)).shape == (0,)


def test_the_shipped_model_places_the_demo_librarys_songs_in_their_family(classifier: Classifier) -> None:
    """A check on songs neither training set was sampled for: the demo's 442 songs across all 20
    families, each filed by a listener. The shipped model puts 322 in their family as one library
    (319 per song): 191 of the 232 in the six families the 30k set has, 131 of the 210 in the 14
    others; 300 is the floor. A change that wins on the comparison's held-out songs but loses here
    (the release-year evidence tried on 2026-11-27 lost 12 songs of the six families) is learning
    the data sets' sampling, not music."""
    songs = demo_songs()
    families = []
    for song in songs:
        resolved = classifier.taxonomy.resolve(song.genre)
        assert resolved is not None and resolved.level == "family", song.genre
        families.append(resolved.key)
    tracks = [song.track for song in songs]
    placed = classifier.classify(tracks, library=True)
    right = sum(p.genre == family for p, family in zip(placed, families, strict=True))
    assert len(songs) == 442 and len(set(families)) == len(classifier.taxonomy.families) and right >= 300
