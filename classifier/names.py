"""A linear model of genre from names, whose probabilities feed the network (stacking).

Hashed TF-IDF of word 1-2-grams and character 2-4-grams of "title | album | artists", then a
multinomial logistic regression. Training feeds the network out-of-fold probabilities, so the
network learns how far to trust names; at run time the model fitted on all training songs is
used. Stored as plain arrays (idf, coefficients) in the safetensors file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from classifier.features import Batch, TrackLike

HASH_FEATURES = 1 << 17


def name_text(track: TrackLike) -> str:
    return f"{track.name or ''} | {track.album or ''} | {' ; '.join(a for a in track.artists if a)}"


def _vectorisers() -> tuple[HashingVectorizer, HashingVectorizer]:
    words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=HASH_FEATURES,
                              alternate_sign=False, norm=None)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=HASH_FEATURES,
                              alternate_sign=False, norm=None)
    return words, chars


def hashed_counts(tracks: Sequence[TrackLike]):  # type: ignore[no-untyped-def]
    """Word and character n-gram counts, [tracks, 2 * HASH_FEATURES].

    Character n-grams (char_wb) never cross a space, so a text's counts are the sum of its
    words' counts: each distinct word is hashed once per batch, which matters in a library
    where the same artists, albums and words come back again and again.
    """
    from scipy.sparse import csr_matrix, hstack

    words, chars = _vectorisers()
    texts = [name_text(t).lower() for t in tracks]
    column_of: dict[str, int] = {}
    rows, columns = [], []
    for row, text in enumerate(texts):
        for word in text.split():
            rows.append(row)
            columns.append(column_of.setdefault(word, len(column_of)))
    occurrences = csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=(len(texts), len(column_of))
    )
    char_counts = occurrences @ chars.transform(list(column_of)) if column_of else chars.transform(texts)
    return hstack([words.transform(texts), char_counts]).tocsr()


class NameModel:
    def __init__(self, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)  # [classes, features]
        self.intercept = intercept.astype(np.float32)

    def probabilities(self, tracks: Sequence[TrackLike]) -> np.ndarray:
        if not tracks:
            return np.zeros((0, len(self.intercept)), dtype=np.float32)
        logits = np.asarray(tfidf(hashed_counts(tracks), self.idf) @ self.coef.T) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return result

    def with_probabilities(self, batch: Batch, tracks: Sequence[TrackLike]) -> Batch:
        """The network's inputs: `batch` with these tracks' name probabilities as the last numbers."""
        batch.numeric = np.concatenate([batch.numeric, self.probabilities(tracks)], axis=1)
        return batch


def tfidf(counts, idf: np.ndarray):  # type: ignore[no-untyped-def]
    """Sublinear TF-IDF, L2-normalised per block so words and characters weigh the same."""
    weighted = counts.astype(np.float32)
    weighted.data = np.log1p(weighted.data)
    weighted = weighted.multiply(idf).tocsr()
    squares = weighted.multiply(weighted).tocsc()
    scale = []
    for block in (slice(0, HASH_FEATURES), slice(HASH_FEATURES, 2 * HASH_FEATURES)):
        norms = np.sqrt(np.asarray(squares[:, block].sum(axis=1))).ravel()
        norms[norms == 0] = 1.0
        scale.append(1.0 / norms)
    from scipy.sparse import diags, hstack

    return hstack([
        diags(scale[0]) @ weighted[:, : HASH_FEATURES], diags(scale[1]) @ weighted[:, HASH_FEATURES:]
    ]).tocsr()
