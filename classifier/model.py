"""The genre network and its configuration.

Four inputs meet in one MLP: a bag of hashed name tokens (EmbeddingBag, mean); the context block
(the name model's genre probabilities, and the genre shares of the song's artist and album when
the model knows them); the numeric block (duration, audio features and their presence mask); and quantile-bin embeddings of the numbers. One head scores every genre; a family's
probability is the sum of its genres'. A tabular expert (numbers and bins only) adds its logits,
trained with its own loss so audio and duration stay useful when names say little.

`FoldedNet` is the same network in eval mode with its linear algebra regrouped for classifying
(see its docstring): the same logits up to float rounding, fewer multiply-adds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional

ROWS_PER_CHUNK = 4096  # songs per dense pass: with 2 torch threads on a busy machine, each pass costs a barrier


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
    def __init__(self, config: ModelConfig, *, initialise: bool = True) -> None:
        """`initialise=False` leaves the token table (8.4 million numbers) unset, for loading a
        model's weights over it: drawing it at random cost a classifier's start-up 60 ms."""
        super().__init__()
        self.config = config
        unset = None if initialise else torch.empty(config.hash_buckets, config.token_dim)
        self.tokens = nn.EmbeddingBag(config.hash_buckets, config.token_dim, mode="mean", sparse=True, _weight=unset)
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
        if initialise:
            nn.init.normal_(self.tokens.weight, std=0.05)

    def forward(self, inputs: NetInputs) -> tuple[torch.Tensor, torch.Tensor]:
        """(genre logits, the tabular expert's share of them)."""
        binned = self.binned(self.bins(inputs.bins).flatten(1))
        dense = self.numeric(inputs.numeric)
        context = self.context(inputs.context)
        hidden = self.trunk(torch.cat([self.tokens(inputs.token_ids, inputs.token_offsets), dense, context, binned], 1))
        tabular = self.tabular_head(torch.cat([binned, dense], dim=1))
        return self.genre_head(hidden) + tabular, tabular


@cache
def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX). There the folded
    network's two trunk layers, most of its arithmetic, run in bfloat16: several times faster than
    float32, and the same decision for 99.98 % or more of both data sets' songs (model card). A CPU
    without it would emulate bfloat16, slower than float32, so it keeps float32."""
    probes = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(bool(probe()) for probe in probes if probe is not None)


@dataclass(frozen=True)
class KnownRows:
    """A context block that is zero except on some rows (the songs whose artist, or album, the
    model knows): those rows' indices (sorted) and values."""

    rows: np.ndarray  # int64, sorted
    values: np.ndarray  # float32 [len(rows), width]


@dataclass(frozen=True)
class FoldedNet:
    """`GenreNet.forward` in eval mode, regrouped so classifying does fewer multiply-adds; the
    logits are the same up to float rounding (tests/classifier/test_model.py compares them).

    - The bin embeddings and the linear layer that reads them are folded into one table: a bin's
      embedding times that layer's columns for its feature, precomputed, so the layer becomes a
      sum of 13 table rows instead of a 156-wide product.
    - The artist and album genre shares in the context block are zero for every song whose artist
      (album) the model never met, usually most of a library: their columns of the context layer
      are applied only to the rows that have them.
    - Dropout is skipped (eval mode) and the dense layers run ROWS_PER_CHUNK songs at a time.
    - On a CPU with bfloat16 in hardware (`native_bfloat16`) the two trunk layers run in bfloat16,
      accumulating in float32; everything else, the genre head included, stays float32."""

    tokens: torch.Tensor  # [buckets, token_dim]
    numeric: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # two layers' weight, bias
    context_names: tuple[torch.Tensor, torch.Tensor]  # the context layer's name-model columns, bias
    context_artists: torch.Tensor  # its artist columns, transposed [width, 256]
    context_albums: torch.Tensor  # its album columns, transposed [width, 256]
    bin_table: torch.Tensor  # [binned_features * bin rows, 128]: each (feature, bin) row's product
    bin_rows: int  # rows of the bin embedding
    binned_bias: torch.Tensor
    trunk: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # in `trunk_dtype`
    trunk_dtype: torch.dtype
    genre_head: tuple[torch.Tensor, torch.Tensor]
    tabular_head: tuple[torch.Tensor, torch.Tensor]

    @classmethod
    def of(cls, net: GenreNet, names_width: int, *, bfloat16: bool | None = None) -> FoldedNet:
        """`net`'s weights folded (no autograd; call again after the weights change). The context
        block is `names_width` name-model columns, then the artist's columns, then the album's.
        `bfloat16`: run the trunk in bfloat16 (default: where the CPU has it, `native_bfloat16`)."""
        trunk_dtype = torch.bfloat16 if (native_bfloat16() if bfloat16 is None else bfloat16) else torch.float32
        with torch.inference_mode():
            c = net.config
            embedding = net.bins.weight  # [features * (n_bins + 1), bin_dim]
            binned_weight, binned_bias = _linear(net.binned[0])
            weight = binned_weight.reshape(-1, c.binned_features, c.bin_dim)  # [128, features, bin_dim]
            bin_table = torch.einsum("kd,ofd->fko", embedding, weight).reshape(-1, weight.shape[0]).contiguous()
            context, context_bias = _linear(net.context[0])
            artists_width = (context.shape[1] - names_width) // 2
            return cls(
                tokens=net.tokens.weight,
                numeric=(*_linear(net.numeric[0]), *_linear(net.numeric[2])),
                context_names=(context[:, :names_width].contiguous(), context_bias),
                context_artists=context[:, names_width : names_width + artists_width].t().contiguous(),
                context_albums=context[:, names_width + artists_width :].t().contiguous(),
                bin_table=bin_table,
                bin_rows=embedding.shape[0],
                binned_bias=binned_bias,
                trunk=(*_linear(net.trunk[1], trunk_dtype), *_linear(net.trunk[4], trunk_dtype)),
                trunk_dtype=trunk_dtype,
                genre_head=_linear(net.genre_head),
                tabular_head=_linear(net.tabular_head),
            )

    def logits(self, token_ids: np.ndarray, token_offsets: np.ndarray, numeric: np.ndarray, names: np.ndarray,
               artists: KnownRows, albums: KnownRows, bins: np.ndarray) -> np.ndarray:
        """Genre logits [n, genres] (float32) for n songs: what `GenreNet.forward` gives for the
        context block [names, artists, albums] (artists and albums zero outside their rows)."""
        n = len(numeric)
        out = np.empty((n, self.genre_head[0].shape[0]), dtype=np.float32)
        with torch.inference_mode():
            pooled = functional.embedding_bag(torch.from_numpy(token_ids), self.tokens, torch.from_numpy(token_offsets),
                                              mode="mean")
            columns = torch.arange(bins.shape[1], dtype=torch.int64) * self.bin_rows
            bin_index = torch.from_numpy(np.ascontiguousarray(bins)) + columns
            numeric_t, names_t = torch.from_numpy(numeric), torch.from_numpy(names)
            for start in range(0, n, ROWS_PER_CHUNK):
                stop = min(start + ROWS_PER_CHUNK, n)
                binned = functional.gelu(functional.embedding_bag(bin_index[start:stop], self.bin_table, mode="sum")
                                         + self.binned_bias)
                dense = functional.gelu(functional.linear(numeric_t[start:stop], *self.numeric[:2]))
                dense = functional.gelu(functional.linear(dense, *self.numeric[2:]))
                context = functional.linear(names_t[start:stop], *self.context_names)
                for known, columns_t in ((artists, self.context_artists), (albums, self.context_albums)):
                    first, last = np.searchsorted(known.rows, (start, stop))
                    if last > first:
                        rows = torch.from_numpy(known.rows[first:last] - start)
                        context.index_add_(0, rows, torch.from_numpy(known.values[first:last]) @ columns_t)
                hidden = torch.cat([pooled[start:stop], dense, functional.gelu(context), binned], 1)
                hidden = functional.gelu(functional.linear(hidden.to(self.trunk_dtype), *self.trunk[:2]))
                hidden = functional.gelu(functional.linear(hidden, *self.trunk[2:])).float()
                tabular = functional.linear(torch.cat([binned, dense], 1), *self.tabular_head)
                out[start:stop] = torch.addmm(tabular + self.genre_head[1], hidden, self.genre_head[0].t()).numpy()
        return out


def _linear(layer: nn.Module, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """A linear layer's weight and bias (in `dtype`)."""
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"expected a linear layer, not {type(layer).__name__}")
    return layer.weight.to(dtype), layer.bias.to(dtype)
