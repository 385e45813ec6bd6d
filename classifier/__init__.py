"""The genre classifier used at run time: features, the PyTorch model, and inference.

Owns `features.py` (turning a track's metadata and optional audio features into tensors),
`model.py` (the network and its config dataclass), `names.py` (the linear name model whose
probabilities the network reads), `inference.py` (`Classifier.load` /
`classify`), the model card and the shipped weights (safetensors + JSON, no pickle).
Must not import pandas, `training`, `storage`, `bot` or discord: a bot process loads only this.
"""

from classifier.features import TrackLike
from classifier.inference import Classifier, ModelLoadError, Prediction, default_model_dir

__all__ = ["Classifier", "ModelLoadError", "Prediction", "TrackLike", "default_model_dir"]
