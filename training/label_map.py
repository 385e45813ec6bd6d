"""A foreign data set's labels read as this taxonomy's genres (`genrebot evaluate --label-map`).

A data set the model never saw is the fairest check of it, but such a set has classes of its own
("Alt_Music", "Indie Alt", or only numbers). A label map names, for each of its labels, the genres a
song under it may rightly go to; the any-of rule then scores the song right on any of them. Labels
the map leaves out resolve through the taxonomy as usual (verbatim or an alias).

The file is JSON: {"about": "where the data comes from (optional)",
"labels": {"<label>": "<genre>" or ["<genre>", ...], ...}}. Labels match in any case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.taxonomy import Taxonomy


class LabelMapError(Exception):
    """The map cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class LabelMap:
    genres: dict[str, tuple[str, ...]]  # a source label, lower case -> the genre keys it may rightly be
    about: str = ""
    path: Path = field(default=Path("label map"))

    def apply(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """A track's labels with each mapped label replaced by its genres (first seen first)."""
        mapped: list[str] = []
        for label in labels:
            mapped.extend(self.genres.get(label.strip().lower(), (label,)))
        return tuple(dict.fromkeys(mapped))


def read_label_map(path: Path, taxonomy: Taxonomy) -> LabelMap:
    """The map in `path`, every genre it names checked against `taxonomy`, or a LabelMapError."""
    try:
        body: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelMapError(f"--label-map {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelMapError(f"--label-map {path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise LabelMapError(f"--label-map {path} is not JSON: {exc.msg} (line {exc.lineno})") from None
    labels = body.get("labels") if isinstance(body, dict) else None
    if not isinstance(labels, dict) or not labels:
        raise LabelMapError(f'--label-map {path} must be a JSON object with "labels": '
                            '{"<label>": "<genre>" or ["<genre>", ...]}')
    about = body.get("about", "")
    genres: dict[str, tuple[str, ...]] = {}
    for label, named in labels.items():
        names = [named] if isinstance(named, str) else named
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise LabelMapError(f"--label-map {path}: {label!r} must name a genre or a list of genres")
        keys = []
        for name in names:
            key = taxonomy.genre_of_label(name)
            if key is None:
                raise LabelMapError(f"--label-map {path}: {name!r} (for {label!r}) is no genre of this model "
                                    "(`genrebot genres` lists them)")
            keys.append(key)
        folded = label.strip().lower()
        if folded in genres:
            raise LabelMapError(f"--label-map {path}: {label!r} is mapped twice (labels match in any case)")
        genres[folded] = tuple(dict.fromkeys(keys))
    return LabelMap(genres, about if isinstance(about, str) else "", Path(path))
