"""The genre network and its configuration.

Three inputs meet in one MLP: a bag of hashed name n-grams (EmbeddingBag, mean), a learned
embedding of the primary artist (index 0 is "unknown", trained by dropping artists at random),
and the numeric block (year, duration, explicit, audio features and their presence mask).
Two heads: genre, and subgenre (read only among the chosen genre's children at inference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from classifier.features import Batch


@dataclass
class ModelConfig:
    hash_buckets: int = 1 << 17
    token_dim: int = 48
    artist_vocab_size: int = 1
    artist_dim: int = 32
    numeric_size: int = 18
    binned_features: int = 13
    n_bins: int = 16
    bin_dim: int = 12
    hidden: int = 256
    dropout: float = 0.3
    n_genres: int = 6
    n_subgenres: int = 24
    name_classes: int = 0  # width of the stacked name-model probabilities appended to the numbers

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class GenreNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.tokens = nn.EmbeddingBag(config.hash_buckets, config.token_dim, mode="mean")
        self.artists = nn.Embedding(config.artist_vocab_size, config.artist_dim)
        self.numeric = nn.Sequential(
            nn.Linear(config.numeric_size + config.name_classes, 128), nn.GELU(), nn.Linear(128, 64), nn.GELU()
        )
        self.bins = nn.Embedding(config.binned_features * (config.n_bins + 1), config.bin_dim)
        self.binned = nn.Sequential(nn.Linear(config.binned_features * config.bin_dim, 128), nn.GELU())
        joined = config.token_dim + config.artist_dim + 64 + 128
        self.trunk = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(joined, config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden),
            nn.GELU(),
        )
        self.genre_head = nn.Linear(config.hidden, config.n_genres)
        # A tabular expert (audio, year, duration alone) whose logits are added to the genre head's:
        # trained with its own loss too, it stays useful when names say little (unseen artists).
        self.tabular_head = nn.Linear(128 + 64, config.n_genres)
        self.subgenre_head = nn.Linear(config.hidden, config.n_subgenres)
        nn.init.normal_(self.tokens.weight, std=0.05)
        nn.init.normal_(self.artists.weight, std=0.05)

    def forward(
        self,
        token_ids: torch.Tensor,
        token_offsets: torch.Tensor,
        artist_ids: torch.Tensor,
        numeric: torch.Tensor,
        bins: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        genre, subgenre, _ = self.forward_with_tabular(token_ids, token_offsets, artist_ids, numeric, bins)
        return genre, subgenre

    def logits(self, batch: Batch, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Genre and subgenre logits for a featurised batch, in chunks, without autograd."""
        self.eval()
        genre_parts, sub_parts = [], []
        with torch.inference_mode():
            for start in range(0, len(batch), chunk):
                part = batch if len(batch) <= chunk else batch.subset(np.arange(start, min(start + chunk, len(batch))))
                genre, sub = self(*(torch.from_numpy(a) for a in (
                    part.token_ids, part.token_offsets, part.artist_ids, part.numeric, part.bins)))
                genre_parts.append(genre.numpy())
                sub_parts.append(sub.numpy())
        if not genre_parts:
            return np.zeros((0, self.config.n_genres), np.float32), np.zeros((0, self.config.n_subgenres), np.float32)
        return np.concatenate(genre_parts), np.concatenate(sub_parts)

    def forward_with_tabular(
        self,
        token_ids: torch.Tensor,
        token_offsets: torch.Tensor,
        artist_ids: torch.Tensor,
        numeric: torch.Tensor,
        bins: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        binned = self.binned(self.bins(bins).flatten(1))
        dense = self.numeric(numeric)
        hidden = self.trunk(
            torch.cat([self.tokens(token_ids, token_offsets), self.artists(artist_ids), dense, binned], dim=1)
        )
        tabular = self.tabular_head(torch.cat([binned, dense], dim=1))
        return self.genre_head(hidden) + tabular, self.subgenre_head(hidden), tabular
