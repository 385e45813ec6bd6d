"""What a song's release year says about its genre, weighed beside the network rather than in it.

Only one training set has release dates (the 30k set; the 114 set has none), so a network given
the year learns which data set, and so which label space, a song comes from (model card, "Release
year and explicit"). The year is used instead as Bayes' rule uses evidence: a dated song's
probability for a genre is multiplied by P(span | genre) / P(span), counted on the dated training
songs, where a span is a run of release years. A genre that few dated songs show is shrunk towards
"no evidence" (a factor of 1) and a genre that none show gets exactly 1, so the genres only the
114 set has are neither favoured nor held back by a date, and a song without a date is left as it
was. The strength, a power on the factor, is tuned on validation songs that have dates.

Each factor is held within e^-1..e (before the strength): the dated songs come from playlists
searched by genre, which exaggerate how far apart genres' years are (in the 30k set, hip-hop before
1990 is about 40 times rarer than among all songs), and a real library's old-school hip-hop must
not be overruled by its date alone. On held-out artists the bound moves the gain by under a point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

# Spans of release years: wide where few songs are, a year wide where most are (2016-2020).
YEAR_EDGES: tuple[int, ...] = (1970, 1980, 1990, 1995, 2000, 2005, 2010, 2013, 2016, 2018, 2019, 2020)
SHRINK = 20.0  # pseudo-songs per genre, spread over the spans as all dated songs are
MAX_LOG_FACTOR = 1.0  # a span moves a genre's odds by at most e (to the power of the strength)


@dataclass(frozen=True)
class YearEvidence:
    edges: tuple[int, ...]  # a span starts at each edge; the first runs from any earlier year
    log_factors: np.ndarray  # float32 [spans, genres]: log P(span | genre) / P(span)
    strength: float = 1.0

    @classmethod
    def counted(cls, years: np.ndarray, genre_sets: Sequence[tuple[int, ...]], n_genres: int, *,
                edges: tuple[int, ...] = YEAR_EDGES, shrink: float = SHRINK) -> YearEvidence | None:
        """The factors counted on these songs (`years` 0 where a song has no date; a song under
        several genres counts a share to each); None when no song has a date."""
        years = np.asarray(years)
        dated = np.array([i for i in np.flatnonzero(years > 0).tolist() if genre_sets[i]], dtype=np.int64)
        if not len(dated):
            return None
        spans = np.searchsorted(np.asarray(edges), years[dated], side="right")
        lengths = np.fromiter((len(genre_sets[i]) for i in dated.tolist()), dtype=np.int64, count=len(dated))
        genres = np.fromiter((g for i in dated.tolist() for g in genre_sets[i]), dtype=np.int64, count=int(lengths.sum()))
        counts = np.zeros((len(edges) + 1, n_genres))
        np.add.at(counts, (np.repeat(spans, lengths), genres), np.repeat(1.0 / lengths, lengths))
        span_share = counts.sum(axis=1) / counts.sum()
        given_genre = (counts + shrink * span_share[:, None]) / (counts.sum(axis=0) + shrink)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_factors = np.where(span_share[:, None] > 0, np.log(given_genre / span_share[:, None]), 0.0)
        bounded = np.clip(log_factors, -MAX_LOG_FACTOR, MAX_LOG_FACTOR)
        return cls(tuple(int(e) for e in edges), bounded.astype(np.float32))

    def with_strength(self, strength: float) -> YearEvidence:
        return replace(self, strength=float(strength))

    def apply(self, probabilities: np.ndarray, years: np.ndarray) -> np.ndarray:
        """`probabilities` [n, genres] with each dated song's row weighed by its span's factors and
        renormalised; undated rows are returned as they were (a new array when anything changed)."""
        rows = np.flatnonzero(np.asarray(years) > 0)
        if not len(rows) or self.strength == 0:
            return probabilities
        spans = np.searchsorted(np.asarray(self.edges), years[rows], side="right")
        factors = np.exp(np.float32(self.strength) * self.log_factors)  # per span: exp once, then gather
        weighted = probabilities[rows] * factors[spans]
        out = probabilities.copy()
        out[rows] = weighted / weighted.sum(axis=1, keepdims=True)
        return out

    def to_dict(self, genres: Sequence[str]) -> dict[str, Any]:
        """model.json's `release_year`: the edges, the strength and each genre's log-factors per span."""
        return {"edges": list(self.edges), "strength": self.strength,
                "log_factors": {g: [round(float(v), 4) for v in self.log_factors[:, i]] for i, g in enumerate(genres)}}

    @classmethod
    def from_dict(cls, body: object, genres: Sequence[str]) -> YearEvidence:
        """The evidence model.json holds; ValueError when it does not fit these genres."""
        if not isinstance(body, Mapping):
            raise ValueError("release_year is not an object")
        edges = tuple(int(e) for e in body["edges"])
        table = body["log_factors"]
        if list(edges) != sorted(set(edges)) or not isinstance(table, Mapping) or set(table) != set(genres):
            raise ValueError("release_year's edges or genres do not fit the taxonomy")
        log_factors = np.array([[float(v) for v in table[g]] for g in genres], dtype=np.float32).T
        if log_factors.shape != (len(edges) + 1, len(genres)) or not np.isfinite(log_factors).all():
            raise ValueError("release_year's factors do not match its spans")
        return cls(edges, log_factors, float(body["strength"]))
