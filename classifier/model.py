"""The genre network and its configuration.

Four inputs meet in one MLP: a bag of hashed name tokens (EmbeddingBag, mean); the context block
(the name model's family probabilities, and the genre shares of the song's artist and album when
the model knows them); the numeric block (year, duration, explicit, audio features and their
presence mask); and quantile-bin embeddings of the numbers. One head scores every genre; a family's
probability is the sum of its genres'. A tabular expert (numbers and bins only) adds its logits,
trained with its own loss so audio, year and duration stay useful when names say little.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class ModelConfig:
    hash_buckets: int = 1 << 17
    token_dim: int = 64
    numeric_size: int = 18
    context_size: int = 1  # name-model probabilities + artist and album genre shares
    binned_features: int = 13
    n_bins: int = 16
    bin_dim: int = 12
    hidden: int = 384
    dropout: float = 0.3
    n_genres: int = 2

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


@dataclass
class NetInputs:
    """Tensors for one forward pass."""

    token_ids: torch.Tensor
    token_offsets: torch.Tensor
    numeric: torch.Tensor
    context: torch.Tensor
    bins: torch.Tensor

    @classmethod
    def from_numpy(cls, token_ids: np.ndarray, token_offsets: np.ndarray, numeric: np.ndarray, context: np.ndarray,
                   bins: np.ndarray) -> NetInputs:
        return cls(*(torch.from_numpy(np.ascontiguousarray(a)) for a in (token_ids, token_offsets, numeric, context, bins)))


class GenreNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tokens = nn.EmbeddingBag(config.hash_buckets, config.token_dim, mode="mean", sparse=True)
        self.numeric = nn.Sequential(nn.Linear(config.numeric_size, 128), nn.GELU(), nn.Linear(128, 64), nn.GELU())
        self.context = nn.Sequential(nn.Linear(config.context_size, 256), nn.GELU())
        self.bins = nn.Embedding(config.binned_features * (config.n_bins + 1), config.bin_dim)
        self.binned = nn.Sequential(nn.Linear(config.binned_features * config.bin_dim, 128), nn.GELU())
        joined = config.token_dim + 64 + 256 + 128
        self.trunk = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(joined, config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden),
            nn.GELU(),
        )
        self.genre_head = nn.Linear(config.hidden, config.n_genres)
        self.tabular_head = nn.Linear(128 + 64, config.n_genres)
        nn.init.normal_(self.tokens.weight, std=0.05)

    def forward(self, inputs: NetInputs) -> tuple[torch.Tensor, torch.Tensor]:
        """(genre logits, the tabular expert's share of them)."""
        binned = self.binned(self.bins(inputs.bins).flatten(1))
        dense = self.numeric(inputs.numeric)
        context = self.context(inputs.context)
        hidden = self.trunk(torch.cat([self.tokens(inputs.token_ids, inputs.token_offsets), dense, context, binned], 1))
        tabular = self.tabular_head(torch.cat([binned, dense], dim=1))
        return self.genre_head(hidden) + tabular, tabular
