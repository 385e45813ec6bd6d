"""The two-level genre taxonomy: families (what a person recognises: rock, jazz, latin...) and the
genres beneath them, with display labels and aliases.

It is data, not code: `taxonomy.json` in the model directory (the source copy the shipped model
was trained with is training/taxonomy.json). Every genre belongs to exactly one family; every
alias and label names exactly one genre (or one family), which the constructor checks.
`resolve` turns what a member types ("Jazz", "k-pop", "hard rock", "r&b") into (level, key).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

FILENAME = "taxonomy.json"
FORMAT = "genrebot-taxonomy/1"
Level = Literal["family", "genre"]
_SEPARATORS = re.compile(r"[\s_\-]+")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed or ambiguous."""


def lookup_key(text: str) -> str:
    """What two spellings of one name share: case, width, spaces, hyphens and underscores ignored."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return _SEPARATORS.sub(" ", folded).strip()


@dataclass(frozen=True)
class Resolved:
    level: Level
    key: str


class Taxonomy(Mapping[str, Sequence[str]]):
    """Families -> genres, labels and aliases. Genres are indexed in file order (the model's
    output order); `membership` maps genre probabilities to family probabilities. As a mapping
    it is family -> its genres."""

    def __init__(self, families: Sequence[Mapping[str, Any]]) -> None:
        self.families: list[str] = []
        self.genres: list[str] = []
        self.children: dict[str, list[str]] = {}
        self._family_of: dict[str, str] = {}
        self._labels: dict[tuple[Level, str], str] = {}
        self.aliases: dict[str, str] = {}  # genre aliases as declared: source label -> genre
        self.family_aliases: dict[str, str] = {}
        self._lookup: dict[Level, dict[str, str]] = {"family": {}, "genre": {}}
        for family in families:
            key = str(family["key"])
            if key in self.children:
                raise TaxonomyError(f"family {key!r} is declared twice")
            self.families.append(key)
            self.children[key] = []
            self._labels[("family", key)] = str(family.get("label") or key)
            self._index("family", key, key, self._labels[("family", key)], *family.get("aliases", ()))
            for alias in family.get("aliases", ()):
                self.family_aliases[str(alias)] = key
            for genre in family.get("genres", ()):
                name = str(genre["key"])
                if name in self._family_of:
                    raise TaxonomyError(f"genre {name!r} is in two families: {self._family_of[name]!r} and {key!r}")
                self.genres.append(name)
                self.children[key].append(name)
                self._family_of[name] = key
                self._labels[("genre", name)] = str(genre.get("label") or name)
                for alias in genre.get("aliases", ()):
                    self.aliases[str(alias)] = name
                self._index("genre", name, name, self._labels[("genre", name)], *genre.get("aliases", ()))
        if not self.genres:
            raise TaxonomyError("the taxonomy has no genres")
        for parent, genres in self.children.items():
            if not genres:
                raise TaxonomyError(f"family {parent!r} has no genres")
        self.genre_index = {g: i for i, g in enumerate(self.genres)}
        self.family_index = {f: i for i, f in enumerate(self.families)}
        self.genre_family = np.array([self.family_index[self._family_of[g]] for g in self.genres], dtype=np.int64)
        self.membership = np.zeros((len(self.genres), len(self.families)), dtype=np.float32)
        self.membership[np.arange(len(self.genres)), self.genre_family] = 1.0

    def decide(self, probabilities: np.ndarray,
               family_probabilities: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(family, genre) index per row of genre probabilities: the family with the most
        probability (the sum of its genres'), and its most probable genre, so the genre is always
        a child of the family. The one decision rule: the bot, training and evaluation use it."""
        family_p = probabilities @ self.membership if family_probabilities is None else family_probabilities
        families = family_p.argmax(axis=1)
        within = np.where(self.genre_family[None, :] == families[:, None], probabilities, -1.0)
        return families, within.argmax(axis=1)

    def rebalanced(self, probabilities: np.ndarray, log_weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """These rows' genres reweighted by exp(`log_weights`) [genres] within each family, every
        family keeping its total: the family answer and its confidence do not move, only which of
        its genres is chosen. `rows`: distinct row indices. A copy; other rows unchanged."""
        if not len(rows):
            return probabilities.astype(np.float32)  # a copy
        every_row = len(rows) == len(probabilities)  # the usual case (a library of new artists): no gather
        before = np.asarray(probabilities if every_row else probabilities[rows], dtype=np.float32)
        after = before * np.exp(log_weights - log_weights.max()).astype(np.float32)[None, :]
        scale = (before @ self.membership) / np.maximum(after @ self.membership, np.float32(1e-30))
        after *= scale[:, self.genre_family]
        if every_row:
            return after
        out = probabilities.astype(np.float32)
        out[rows] = after
        return out

    def family_sets(self, genre_sets: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Each song's genre indices as the indices of their families, each once, in the order of
        its genres (the first is the one a miss is scored against)."""
        return [tuple(dict.fromkeys(int(self.genre_family[g]) for g in genres)) for genres in genre_sets]

    def _index(self, level: Level, key: str, *names: str) -> None:
        table = self._lookup[level]
        for name in names:
            folded = lookup_key(name)
            if table.get(folded, key) != key:
                raise TaxonomyError(f"{name!r} names two {level}s: {table[folded]!r} and {key!r}")
            table[folded] = key

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Taxonomy:
        if not isinstance(body, Mapping):
            raise TaxonomyError("not a genrebot taxonomy (not a JSON object)")
        if body.get("format") != FORMAT:
            raise TaxonomyError(f"not a genrebot taxonomy (format {body.get('format')!r})")
        return cls(body["families"])

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        try:
            body = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8 text
            raise TaxonomyError(f"cannot read the taxonomy {path}: {type(exc).__name__}") from None
        try:
            return cls.from_dict(body)
        except TaxonomyError as exc:
            raise TaxonomyError(f"the taxonomy {path}: {exc}") from None
        except (KeyError, TypeError) as exc:
            raise TaxonomyError(f"the taxonomy {path} is malformed: {type(exc).__name__} {exc}") from None

    @classmethod
    def from_labels(cls, genre_sets: Sequence[tuple[str, ...]], subgenre_sets: Sequence[tuple[str, ...]]) -> Taxonomy:
        """A taxonomy read off a data set: its label column as families, its subgenre column as
        genres (each under the family it appears with most); a family with no subgenres gets
        one genre of its own name."""
        pairs: dict[tuple[str, str], int] = {}
        for genres, subs in zip(genre_sets, subgenre_sets, strict=True):
            if genres and subs:
                pairs[(subs[0], genres[0])] = pairs.get((subs[0], genres[0]), 0) + 1
        parent: dict[str, str] = {}
        for (sub, genre), _ in sorted(pairs.items(), key=lambda item: -item[1]):
            parent.setdefault(sub, genre)
        families = sorted({g for genres in genre_sets for g in genres})
        body = []
        for family in families:
            children = sorted(s for s, p in parent.items() if p == family) or [family]
            body.append({"key": family, "genres": [{"key": c} for c in children]})
        return cls(body)

    def to_dict(self) -> dict[str, Any]:
        aliases_of: dict[str, list[str]] = {}
        for alias, genre in self.aliases.items():
            aliases_of.setdefault(genre, []).append(alias)
        return {"format": FORMAT, "families": [
            {"key": family, "label": self.label(family, "family"),
             "aliases": [a for a, f in self.family_aliases.items() if f == family],
             "genres": [{"key": g, "label": self.label(g, "genre"), "aliases": aliases_of.get(g, [])}
                        for g in self.children[family]]}
            for family in self.families]}

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")

    def listing(self) -> dict[str, Any]:
        """What `genrebot genres --json` prints: families -> genres, and source label -> genre."""
        return {"families": {f: list(self.children[f]) for f in self.families}, "aliases": dict(self.aliases)}

    def __getitem__(self, family: str) -> Sequence[str]:
        return self.children[family]

    def __iter__(self) -> Iterator[str]:
        return iter(self.families)

    def __len__(self) -> int:
        return len(self.families)

    def family_of(self, genre: str) -> str:
        return self._family_of[genre]

    def label(self, key: str, level: Level | None = None) -> str:
        """Display label: 'k-pop' -> 'K-Pop', 'r&b' -> 'R&B & Soul'. Families first when a key is both."""
        for candidate in ((level,) if level else ("family", "genre")):
            found = self._labels.get((candidate, key))
            if found:
                return found
        raise KeyError(key)

    def resolve(self, text: str, level: Level | None = None) -> Resolved | None:
        """What a member typed -> (level, key), or None. Key, label or alias, any case or spacing;
        with no level, a family wins over a genre of the same name (the broader pick)."""
        folded = lookup_key(text)
        if not folded:
            return None
        for candidate in ((level,) if level else ("family", "genre")):
            key = self._lookup[candidate].get(folded)
            if key is not None:
                return Resolved(candidate, key)
        return None

    def genre_of_label(self, label: str) -> str | None:
        """A training label's genre (verbatim or through an alias)."""
        found = self.resolve(label, "genre")
        return found.key if found else None
