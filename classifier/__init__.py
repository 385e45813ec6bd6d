"""The genre classifier used at run time: taxonomy, features, the PyTorch model, and inference.

Owns `taxonomy.py` (families -> genres, labels, aliases, `resolve`), `features.py` (a track's
names, artist/album keys and numbers as arrays), `names.py` (the linear name model whose
family probabilities the network reads), `catalogue.py` (known artists' and albums' genres),
`model.py` (the network and its config dataclass), `library.py` (pooling a member's library by
artist and album), `inference.py` (`Classifier.load`, `genre_probabilities`, `pool`,
`predictions`, `classify`), the model card and the shipped model (safetensors + JSON, no pickle).
Must not import pandas, `training`, `storage`, `bot` or discord: a bot process loads only this.

The API the bot uses: `Classifier.load(dir)`; `classifier.taxonomy` (a `Taxonomy`, also a
mapping family -> genres); `classifier.genres` (the order of probability vectors);
`genre_probabilities(tracks)` -> float32 [n, genres] per track (cacheable per model version);
`pool(tracks, probabilities)` for one member's library; `predictions(probabilities)` ->
`Prediction`s whose `genre` is the family and `subgenre` the genre within it;
`known_artists(artist_keys)` -> bool [n], whether the model met each song's primary artist in
training (it is far surer of those songs); and `classify(tracks, library=False)` for the first
three at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from classifier.features import TrackLike
from classifier.taxonomy import Resolved, Taxonomy

if TYPE_CHECKING:
    from classifier.inference import Classifier, ModelLoadError, Prediction, default_model_dir
    from classifier.library import Pooling

__all__ = ["Classifier", "ModelLoadError", "Pooling", "Prediction", "Resolved", "Taxonomy", "TrackLike",
           "default_model_dir"]

# Modules that import torch, loaded on first use of their names rather than whenever a light
# submodule (classifier.taxonomy) is imported: `genrebot --help` needs the taxonomy, never torch.
_LOADED_ON_USE = {"Classifier": "inference", "ModelLoadError": "inference", "Prediction": "inference",
                  "default_model_dir": "inference", "Pooling": "library"}


def __getattr__(name: str) -> Any:
    if name in _LOADED_ON_USE:
        return getattr(importlib.import_module(f"classifier.{_LOADED_ON_USE[name]}"), name)
    raise AttributeError(f"module 'classifier' has no attribute {name!r}")
