"""Loading a model directory and classifying tracks with it.

A model directory holds `model.safetensors` (weights; loading never runs code) and
`model.json` (taxonomy, feature schema, vocabulary, normalisation, temperatures, metrics,
training-data hash, code version). `Classifier.classify` is thread-safe, batched, runs without
autograd, and keeps torch to the thread count it was given so a bot process stays responsive.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from classifier.features import FeatureSchema, TrackLike, featurise
from classifier.model import GenreNet, ModelConfig
from classifier.names import NameModel

FORMAT = "genrebot-model/1"
WEIGHTS = "model.safetensors"
METADATA = "model.json"
CODE_VERSION = "genrebot-classifier-2"  # 2: stacked name model (names.* tensors)
BATCH_SIZE = 2048


class ModelLoadError(Exception):
    """The model directory is missing, incomplete or not a genrebot model."""


@dataclass(frozen=True)
class Prediction:
    genre: str
    genre_confidence: float
    subgenre: str | None
    subgenre_confidence: float | None
    genre_probabilities: dict[str, float]


def default_model_dir() -> Path:
    return Path(__file__).resolve().parent / "default_model"


def write_model_dir(out_dir: Path, net: GenreNet, metadata: dict[str, Any], names: NameModel | None = None) -> str:
    """Write weights + JSON to a temporary directory, then rename: never a half-written model."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".genrebot-model-", dir=out_dir.parent))
    try:
        tensors = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
        tensors["tokens.weight"] = tensors["tokens.weight"].half()  # keeps the shipped model small
        if names is not None:
            tensors["names.idf"] = torch.from_numpy(names.idf).half()
            tensors["names.coef"] = torch.from_numpy(names.coef).half()
            tensors["names.intercept"] = torch.from_numpy(names.intercept)
        save_file(tensors, str(staging / WEIGHTS))
        digest = hashlib.sha256((staging / WEIGHTS).read_bytes()).hexdigest()
        version = f"genre-net-{digest[:10]}"
        body = {**metadata, "format": FORMAT, "version": version, "weights_sha256": digest,
                "code_version": CODE_VERSION, "config": net.config.to_dict()}
        (staging / METADATA).write_text(json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False))
        for file in (staging / WEIGHTS, staging / METADATA):
            file.chmod(0o644)
        staging.chmod(0o755)
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(out_dir, backup)
            os.replace(staging, out_dir)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


class Classifier:
    def __init__(
        self, net: GenreNet, metadata: dict[str, Any], *, threads: int = 1, names: NameModel | None = None
    ) -> None:
        self.net = net.eval()
        self.names = names
        self.metadata = metadata
        self.version: str = metadata["version"]
        self.genres: list[str] = list(metadata["genres"])
        self.subgenres: list[str] = list(metadata.get("subgenres") or [])
        self.subgenre_parent: list[int] = list(metadata.get("subgenre_parent") or [])
        self.taxonomy: dict[str, list[str]] = {
            g: [s for s, p in zip(self.subgenres, self.subgenre_parent, strict=True) if p == i]
            for i, g in enumerate(self.genres)
        }
        self.has_subgenres = bool(self.subgenres)
        self.schema = FeatureSchema(**metadata["schema"])
        temps = metadata.get("temperature") or {}
        self.genre_temperature = float(temps.get("genre", 1.0))
        self.subgenre_temperature = float(temps.get("subgenre", 1.0))
        self.threads = threads
        self._lock = threading.Lock()
        children = np.zeros((len(self.genres), max(1, len(self.subgenres))), dtype=bool)
        for index, parent in enumerate(self.subgenre_parent):
            children[parent, index] = True
        self._children = children

    @classmethod
    def load(cls, path: Path | str | None = None, *, threads: int = 1) -> Classifier:
        directory = Path(path) if path is not None else default_model_dir()
        try:
            metadata = json.loads((directory / METADATA).read_text(encoding="utf-8"))
            if metadata.get("format") != FORMAT:
                raise ModelLoadError(f"{directory} is not a genrebot model (format {metadata.get('format')!r})")
            tensors = load_file(str(directory / WEIGHTS))
        except ModelLoadError:
            raise
        except FileNotFoundError as exc:
            raise ModelLoadError(f"{directory} has no {Path(exc.filename or '').name or 'model files'}") from None
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"cannot read the model in {directory}: {type(exc).__name__}") from None
        try:
            net = GenreNet(ModelConfig(**metadata["config"]))
            net.load_state_dict({k: v.float() for k, v in tensors.items() if not k.startswith("names.")})
            names = (
                NameModel(tensors["names.idf"].float().numpy(), tensors["names.coef"].float().numpy(),
                          tensors["names.intercept"].float().numpy())
                if net.config.name_classes else None
            )
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ModelLoadError(f"the model in {directory} does not match this genrebot: {type(exc).__name__}") from None
        return cls(net, metadata, threads=threads, names=names)

    def logits(self, tracks: Sequence[TrackLike]) -> tuple[np.ndarray, np.ndarray]:
        batch = featurise(tracks, self.schema)
        if self.names is not None:
            batch = self.names.with_probabilities(batch, tracks)
        with self._lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                return self.net.logits(batch, chunk=BATCH_SIZE)
            finally:
                torch.set_num_threads(previous)

    def probabilities(self, tracks: Sequence[TrackLike]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated genre probabilities [n, genres] and subgenre probabilities [n, subgenres]."""
        genre_parts, sub_parts = [], []
        for start in range(0, len(tracks), BATCH_SIZE):
            genre, sub = self.logits(tracks[start : start + BATCH_SIZE])
            genre_parts.append(_softmax(genre / self.genre_temperature))
            sub_parts.append(_softmax(sub / self.subgenre_temperature))
        if not genre_parts:
            return np.zeros((0, len(self.genres))), np.zeros((0, len(self.subgenres)))
        return np.concatenate(genre_parts), np.concatenate(sub_parts)

    def classify(self, tracks: Sequence[TrackLike]) -> list[Prediction]:
        genre_p, sub_p = self.probabilities(tracks)
        results = []
        for row in range(len(tracks)):
            genre_index = int(genre_p[row].argmax())
            subgenre: str | None = None
            subgenre_confidence: float | None = None
            if self.has_subgenres:
                # The subgenre is read among the chosen genre's children: always consistent.
                within = np.where(self._children[genre_index], sub_p[row], 0.0)
                total = float(within.sum())
                sub_index = int(within.argmax())
                subgenre = self.subgenres[sub_index]
                subgenre_confidence = float(genre_p[row, genre_index] * (within[sub_index] / total if total else 0.0))
            results.append(
                Prediction(
                    genre=self.genres[genre_index],
                    genre_confidence=float(genre_p[row, genre_index]),
                    subgenre=subgenre,
                    subgenre_confidence=subgenre_confidence,
                    genre_probabilities={g: round(float(p), 6) for g, p in zip(self.genres, genre_p[row], strict=True)},
                )
            )
        return results


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return out


