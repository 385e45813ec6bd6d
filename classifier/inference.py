"""Loading a model directory and classifying tracks with it.

A model directory holds `model.safetensors` (weights, the name model and the known-artist and
album tables; loading never runs code), `model.json` (feature schema, temperature, pooling
weights, metrics, training-data hashes, code version) and `taxonomy.json` (families -> genres).

The API, in the order a bot with a prediction cache uses it:
- `genre_probabilities(tracks)`: calibrated per-track probabilities over genres, float32
  [n, genres] (cache them per `answers_version`, e.g. as float16 blobs: `version` alone is set at
  training and misses a run-time change of answers, `ANSWERS_REVISION`);
- `pool(tracks, probabilities)`: those of one member's library, blended by artist and album;
- `predictions(probabilities)`: a `Prediction` per row (family, genre, confidences);
- `known_artists(artist_keys)`: whether the model met each song's primary artist in training
  (recomputed from the tracks, so it is right for cached probabilities too);
- `classify(tracks, library=False)`: all three in one call.
Thread-safe, batched, no autograd; torch is kept to the thread count the classifier was given so
a bot process stays responsive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from classifier.catalogue import GenreCounts
from classifier.features import Batch, FeatureSchema, TrackLike, featurise, hide_audio
from classifier.library import Pooling, library_keys, pool
from classifier.model import FoldedNet, GenreNet, KnownRows, ModelConfig, NetInputs
from classifier.names import NameBlend, NameModel, sharpened
from classifier.taxonomy import FILENAME as TAXONOMY_FILE
from classifier.taxonomy import Taxonomy, TaxonomyError

FORMAT = "genrebot-model/4"  # 4: the name model reads the reference recipe's tokens (3: no release year or explicit flag)
WEIGHTS = "model.safetensors"
METADATA = "model.json"
CODE_VERSION = "genrebot-classifier-7"  # 7: the name model's own tokens; the version covers the deciding model.json values
# Raised when run-time code gives a model it already had different answers (its version is set at
# training and cannot know): probabilities cached under the old answers are then classified again.
# 2: an audio value no Spotify feature can have reads as missing (8185c1b; it was NaN for a song
# with an infinite tempo, and for its artist's and album's songs once pooled).
ANSWERS_REVISION = 2
MODEL_FILES = (WEIGHTS, METADATA, TAXONOMY_FILE)  # everything write_model_dir puts in a model directory


class ModelLoadError(Exception):
    """The model directory is missing, incomplete or not a genrebot model."""


class ModelWriteRefused(Exception):
    """The output path holds something other than a genrebot model: it is never replaced."""


def model_files_in(directory: Path) -> frozenset[str] | None:
    """The files of the genrebot model in `directory`, or None if it holds none (its model.json says)."""
    try:
        metadata = json.loads((Path(directory) / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(metadata, dict) or not str(metadata.get("format")).startswith("genrebot-model/"):
        return None  # any genrebot model, this format or an older one, is genrebot's own to replace
    return frozenset(MODEL_FILES)


def _replaceable(out_dir: Path) -> bool:
    """An empty directory, or a genrebot model directory holding nothing but the model's files."""
    entries = set(os.listdir(out_dir)) if out_dir.is_dir() else None
    if entries is None:
        return False
    files = model_files_in(out_dir)
    return not entries or (files is not None and entries <= files)


@dataclass(frozen=True)
class Prediction:
    genre: str  # the family ("rock", "jazz", ...)
    genre_confidence: float
    subgenre: str | None  # the genre within that family ("alt-rock", "bebop", ...)
    subgenre_confidence: float | None
    genre_probabilities: dict[str, float]  # over families


@dataclass(frozen=True)
class Decisions:
    """Per song, as arrays: family and genre indices (into `families`/`genres`), their confidences."""

    family: np.ndarray
    family_confidence: np.ndarray
    genre: np.ndarray
    genre_confidence: np.ndarray
    family_probabilities: np.ndarray


def default_model_dir() -> Path:
    return Path(__file__).resolve().parent / "default_model"


@dataclass
class ModelParts:
    """Everything a model directory holds besides its metadata."""

    net: GenreNet
    names: NameModel
    artists: GenreCounts
    albums: GenreCounts
    taxonomy: Taxonomy
    schema: FeatureSchema

    def inputs(self, batch: Batch, *, name_probabilities: np.ndarray | None = None,
               artist_features: np.ndarray | None = None, album_features: np.ndarray | None = None) -> NetInputs:
        """The network's inputs for a featurised batch; training passes its own (held-out) context."""
        names = self.names.probabilities(batch) if name_probabilities is None else name_probabilities
        artists = self.artists.features(batch.artist_keys) if artist_features is None else artist_features
        albums = self.albums.features(batch.album_keys) if album_features is None else album_features
        context = np.concatenate([names, artists, albums], axis=1).astype(np.float32)
        return NetInputs.from_numpy(batch.token_ids, batch.token_offsets, batch.numeric, context, batch.bins)

    def logits(self, batch: Batch, *, without_audio: bool = False) -> np.ndarray:
        """The network's genre logits for a featurised batch, in chunks, without autograd."""
        return self._network_and_names(batch, without_audio=without_audio)[0]

    def _network_and_names(self, batch: Batch, *, without_audio: bool) -> tuple[np.ndarray, np.ndarray]:
        """The network's logits and the name model's probabilities (computed once, shared), through
        the folded network (`FoldedNet`: `self.net`'s answers, fewer multiply-adds), without autograd."""
        self.net.eval()
        if not len(batch):
            empty = np.zeros((0, self.net.config.n_genres), dtype=np.float32)
            return empty, empty
        names = self.names.probabilities(batch)
        view = hide_audio(batch) if without_audio else batch
        artists, albums = (KnownRows(*table.known_features(keys)) for table, keys in
                           ((self.artists, view.artist_keys), (self.albums, view.album_keys)))
        logits = FoldedNet.of(self.net, names.shape[1]).logits(view.token_ids, view.token_offsets, view.numeric,
                                                                names, artists, albums, view.bins)
        return logits, names

    def probabilities(self, batch: Batch, temperature: float, blend: NameBlend, *,
                      without_audio: bool = False, sharpness: float = 1.0,
                      new_artist_balance: np.ndarray | None = None) -> np.ndarray:
        """Final probabilities: the calibrated network blended with the name model by whether the
        song's artist is known and whether it has audio features (see `NameBlend`), sharpened for
        deciding (see `sharpened`); for songs by artists the model does not know, each family's
        probability is shared among its genres by `new_artist_balance` (see `rebalanced`)."""
        logits, names = self._network_and_names(batch, without_audio=without_audio)
        known = self.known_artists(batch.artist_keys)
        audio = np.zeros(len(batch), dtype=bool) if without_audio else batch.audio_present
        decided = sharpened(blend.apply(softmax(logits / temperature), names, known, audio), sharpness)
        if new_artist_balance is None:
            return decided
        return self.taxonomy.rebalanced(decided, new_artist_balance, np.flatnonzero(~known))

    def known_artists(self, artist_keys: np.ndarray) -> np.ndarray:
        """bool [n]: whether each primary-artist key is in the artist table (the artists training
        showed it), the one test of "new artist" for the name blend, the genre balance and callers."""
        known: np.ndarray = self.artists.rows(np.asarray(artist_keys, dtype=np.int64)) >= 0
        return known

    def tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"net.{k}": v.detach().contiguous().clone() for k, v in self.net.state_dict().items()}
        tensors["net.tokens.weight"] = tensors["net.tokens.weight"].half()  # keeps the shipped model small
        tensors["names.idf"] = self.names.idf.half()
        tensors["names.coef"] = self.names.coef.half()
        tensors["names.intercept"] = self.names.intercept.clone()
        for prefix, table in (("artists", self.artists), ("albums", self.albums)):
            tensors[f"{prefix}.keys"] = torch.from_numpy(table.keys.astype(np.int64))
            tensors[f"{prefix}.indptr"] = torch.from_numpy(table.indptr.astype(np.int64))
            tensors[f"{prefix}.genres"] = torch.from_numpy(table.genres.astype(np.int16))
            tensors[f"{prefix}.counts"] = torch.from_numpy(table.counts.astype(np.float16))
        return tensors


# model.json keys that change answers
DECIDING = ("temperature", "name_blend", "decision_sharpness", "pooling", "new_artist_genre_balance")


def model_version_digest(weights_sha256: str, metadata: dict[str, Any]) -> str:
    """What a model's version is derived from: its weights and the model.json values that change
    its answers, so probabilities cached per version (the bot keeps them) are never reused by a
    model that would answer differently from the same weights."""
    deciding = json.dumps({key: metadata.get(key) for key in DECIDING}, sort_keys=True)
    return hashlib.sha256(f"{weights_sha256}\n{deciding}".encode()).hexdigest()


def write_model_dir(out_dir: Path, parts: ModelParts, metadata: dict[str, Any]) -> str:
    """Write weights + JSON + taxonomy to a temporary directory, then rename: never a half-written model."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".genrebot-model-", dir=out_dir.parent))
    try:
        save_file(parts.tensors(), str(staging / WEIGHTS))
        parts.taxonomy.save(staging / TAXONOMY_FILE)
        digest = hashlib.sha256((staging / WEIGHTS).read_bytes()).hexdigest()
        version = f"genre-net-{model_version_digest(digest, metadata)[:10]}"
        body = {**metadata, "format": FORMAT, "version": version, "weights_sha256": digest,
                "code_version": CODE_VERSION, "config": parts.net.config.to_dict(), "schema": asdict(parts.schema)}
        (staging / METADATA).write_text(json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False))
        for file in staging.iterdir():
            file.chmod(0o644)
        staging.chmod(0o755)
        if out_dir.exists() or out_dir.is_symlink():
            # Only a model this function wrote (or an empty directory) is replaced, and the old one
            # goes through a fresh directory of our own: no other path is ever removed.
            if not _replaceable(out_dir):
                raise ModelWriteRefused(f"{out_dir} is not a genrebot model directory: not replacing it")
            replaced = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replaced-", dir=out_dir.parent))
            os.replace(out_dir, replaced / "model")
            os.replace(staging, out_dir)
            shutil.rmtree(replaced, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def _table(tensors: dict[str, torch.Tensor], prefix: str, n_genres: int) -> GenreCounts:
    return GenreCounts(tensors[f"{prefix}.keys"].numpy().astype(np.int64), tensors[f"{prefix}.indptr"].numpy().astype(np.int64),
                       tensors[f"{prefix}.genres"].numpy().astype(np.int64),
                       tensors[f"{prefix}.counts"].float().numpy(), n_genres)


def read_model_dir(directory: Path) -> tuple[ModelParts, dict[str, Any]]:
    if not directory.is_dir():
        raise ModelLoadError(f"{directory} is not a directory (a model is a directory `genrebot train` wrote)")
    try:
        metadata = json.loads((directory / METADATA).read_text(encoding="utf-8"))
        if not isinstance(metadata, dict):
            raise ModelLoadError(f"{directory} is not a genrebot model: its {METADATA} is not a JSON object")
        if metadata.get("format") != FORMAT:
            found = metadata.get("format")
            hint = " (made by an older genrebot: retrain it)" if str(found).startswith("genrebot-model/") else ""
            raise ModelLoadError(f"{directory} is not a genrebot model this version reads (format {found!r}){hint}")
        taxonomy = Taxonomy.load(directory / TAXONOMY_FILE)
        tensors = load_file(str(directory / WEIGHTS))
    except ModelLoadError:
        raise
    except FileNotFoundError as exc:
        raise ModelLoadError(f"{directory} has no {Path(exc.filename or '').name or 'model files'}") from None
    except TaxonomyError as exc:
        raise ModelLoadError(str(exc)) from None
    except SafetensorError:  # cut short (a copy that stopped), or not safetensors at all
        raise ModelLoadError(f"cannot read the model in {directory}: {WEIGHTS} is damaged or incomplete") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"cannot read the model in {directory}: {type(exc).__name__}") from None
    try:
        net = GenreNet(ModelConfig(**metadata["config"]), initialise=False)
        net.load_state_dict({k[4:]: v.float() for k, v in tensors.items() if k.startswith("net.")})
        if net.config.n_genres != len(taxonomy.genres):
            raise ValueError("the network and the taxonomy disagree on the number of genres")
        names = NameModel(tensors["names.idf"].float().numpy(), tensors["names.coef"].float().numpy(),
                          tensors["names.intercept"].float().numpy())
        parts = ModelParts(net.eval(), names, _table(tensors, "artists", len(taxonomy.genres)),
                           _table(tensors, "albums", len(taxonomy.genres)), taxonomy,
                           FeatureSchema(**metadata["schema"]))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"the model in {directory} does not match this genrebot: {type(exc).__name__}") from None
    return parts, metadata


class Classifier:
    def __init__(self, parts: ModelParts, metadata: dict[str, Any], *, threads: int = 1) -> None:
        self.parts = parts
        self.metadata = metadata
        self.version: str = metadata["version"]
        # What cached probabilities are valid for: this model, as this genrebot runs it.
        self.answers_version = f"{self.version}/answers-{ANSWERS_REVISION}"
        self.taxonomy: Taxonomy = parts.taxonomy
        self.families: list[str] = list(self.taxonomy.families)
        self.genres: list[str] = list(self.taxonomy.genres)
        self.temperature = float(metadata.get("temperature", 1.0))
        self.pooling = Pooling(**metadata.get("pooling", {}))
        self.blend = NameBlend(**metadata.get("name_blend", {}))
        self.sharpness = float(metadata.get("decision_sharpness", 1.0))  # 1.0: models trained before it
        self.new_artist_balance = new_artist_balance(metadata, self.genres)
        self.threads = threads
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str | None = None, *, threads: int = 1) -> Classifier:
        directory = Path(path) if path is not None else default_model_dir()
        parts, metadata = read_model_dir(directory)
        try:
            return cls(parts, metadata, threads=threads)
        except (KeyError, TypeError, ValueError) as exc:  # its version or a deciding value (a hand edit)
            raise ModelLoadError(f"cannot read the model in {directory}: its {METADATA} has no readable "
                                 f"{exc.args[0] if isinstance(exc, KeyError) else 'deciding values'} "
                                 f"({type(exc).__name__})") from None

    def genre_probabilities(self, tracks: Sequence[TrackLike]) -> np.ndarray:
        """Calibrated probabilities over `self.genres`, float32 [n, genres], one row per track."""
        return self.batch_probabilities(featurise(tracks, self.parts.schema))

    def batch_probabilities(self, batch: Batch, *, without_audio: bool = False) -> np.ndarray:
        """`genre_probabilities` of an already featurised batch (optionally as if it had no audio)."""
        with self._lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                return self.parts.probabilities(batch, self.temperature, self.blend, without_audio=without_audio,
                                                sharpness=self.sharpness, new_artist_balance=self.new_artist_balance)
            finally:
                torch.set_num_threads(previous)

    def known_artists(self, artist_keys: np.ndarray) -> np.ndarray:
        """bool [n]: whether the model met each song's primary artist in training, from the songs'
        primary-artist keys (`Batch.artist_keys`, or `library_keys(tracks)[0]` for tracks whose
        probabilities were cached). It places those songs far more surely than songs by artists it
        never met, which it places from their names and album (and, pooled, their artists'
        other songs). One `searchsorted` over the artist table: no per-song Python."""
        return self.parts.known_artists(artist_keys)

    def pool(self, tracks: Sequence[TrackLike], probabilities: np.ndarray) -> np.ndarray:
        """These tracks as one member's library: each song's probabilities blended with its
        artist's and album's other songs' (weights tuned on validation, in model.json)."""
        artist_keys, album_keys = library_keys(tracks)
        return pool(probabilities, artist_keys, album_keys, self.pooling)

    def family_probabilities(self, probabilities: np.ndarray) -> np.ndarray:
        result: np.ndarray = probabilities @ self.taxonomy.membership
        return result

    def decide(self, probabilities: np.ndarray) -> Decisions:
        """The family with the most probability and its most probable genre (always a child), as
        arrays: what a CSV writer needs, without a Python object per song."""
        family_p = self.family_probabilities(probabilities)
        family, genre = self.taxonomy.decide(probabilities, family_p)
        rows = np.arange(len(probabilities))
        return Decisions(family, family_p[rows, family], genre, probabilities[rows, genre], family_p)

    def predictions(self, probabilities: np.ndarray) -> list[Prediction]:
        """One `Prediction` per row of `probabilities` (see `decide`)."""
        if not len(probabilities):
            return []
        decided = self.decide(probabilities)
        families, genres, width = self.families, self.genres, len(self.families)
        # One flat list, sliced per song, rather than a list per row: 10,000 row lists alive while
        # the predictions are built would each be promoted by the garbage collector, bringing its
        # next full (slow) collection twice as near.
        rounded = np.round(decided.family_probabilities.astype(np.float64), 6).ravel().tolist()
        return [
            Prediction(families[f], fc, genres[g], gc, dict(zip(families, rounded[start : start + width], strict=True)))
            for start, f, fc, g, gc in zip(range(0, len(rounded), width), decided.family.tolist(),
                                           decided.family_confidence.tolist(), decided.genre.tolist(),
                                           decided.genre_confidence.tolist(), strict=True)
        ]

    def classify(self, tracks: Sequence[TrackLike], *, library: bool = False) -> list[Prediction]:
        """Predictions for these tracks; with `library`, pooled as one member's library."""
        probabilities = self.genre_probabilities(tracks)
        if library:
            probabilities = self.pool(tracks, probabilities)
        return self.predictions(probabilities)


def new_artist_balance(metadata: dict[str, Any], genres: list[str]) -> np.ndarray | None:
    """model.json's `new_artist_genre_balance` (genre -> log-weight; absent in models trained
    before it) as an array in the taxonomy's genre order."""
    table = metadata.get("new_artist_genre_balance")
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) != set(genres):
        raise ModelLoadError("model.json's new_artist_genre_balance does not name the taxonomy's genres")
    return np.array([float(table[g]) for g in genres], dtype=np.float64)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return out
