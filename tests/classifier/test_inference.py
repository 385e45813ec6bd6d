"""Loading a model directory and classifying with it (classifier/inference.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from safetensors.torch import load_file

from classifier import Classifier, ModelLoadError
from classifier.inference import WEIGHTS, default_model_dir


@dataclass(frozen=True)
class Song:
    name: str
    artists: tuple[str, ...]
    album: str = ""
    release_date: str | None = None
    duration_ms: int | None = None
    explicit: bool | None = None
    audio_features: dict[str, float] | None = None


DESPACITO = Song("Despacito", ("Luis Fonsi",), "Vida", "2017", 228000, False)
ENTER_SANDMAN = Song("Enter Sandman", ("Metallica",), "Metallica", "1991-08-12", 331000, False)


def test_shipped_model_tells_latin_from_rock() -> None:
    """Two songs any listener can place get their genres."""
    predictions = Classifier.load().classify([DESPACITO, ENTER_SANDMAN])
    assert [p.genre for p in predictions] == ["latin", "rock"]


def test_subgenre_is_always_a_child_of_the_genre_and_confidences_are_consistent() -> None:
    """A prediction's subgenre lies under its genre; probabilities sum to one."""
    classifier = Classifier.load()
    for p in classifier.classify([DESPACITO, ENTER_SANDMAN]):
        assert p.subgenre in classifier.taxonomy[p.genre]
        assert abs(sum(p.genre_probabilities.values()) - 1) < 1e-3
        assert 0 < (p.subgenre_confidence or 0) <= p.genre_confidence <= 1


def test_shipped_model_carries_its_name_model_as_plain_tensors() -> None:
    """The stacked name model ships inside the safetensors file, not as a pickle."""
    tensors = load_file(str(default_model_dir() / WEIGHTS))
    assert {"names.idf", "names.coef", "names.intercept"} <= set(tensors)


def test_no_tracks_give_no_predictions() -> None:
    """An empty library is classified as an empty list, not an error."""
    assert Classifier.load().classify([]) == []


def test_unreadable_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A directory that is not a genrebot model is refused with a message saying so."""
    (tmp_path / "model.json").write_text('{"format": "something-else"}')
    with pytest.raises(ModelLoadError, match="not a genrebot model"):
        Classifier.load(tmp_path)
