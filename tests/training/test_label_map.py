"""A foreign data set's labels read as the taxonomy's genres (training/label_map.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier import Classifier
from classifier.taxonomy import Taxonomy
from training.label_map import LabelMapError, read_label_map

SHIPPED_MAPS = Path(__file__).resolve().parents[2] / "training" / "label_maps"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Classifier.load().taxonomy


def _map(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "map.json"
    path.write_text(json.dumps(body))
    return path


def test_a_mapped_label_becomes_every_genre_it_names_and_others_stay_as_they_are(taxonomy: Taxonomy,
                                                                                 tmp_path: Path) -> None:
    """Genres may be named by key, label or alias, in any case; a label the map leaves out is kept
    for the taxonomy to resolve as usual."""
    label_map = read_label_map(_map(tmp_path, {"labels": {"Indie Alt": ["indie", "Alternative"], "7": "K-Pop"}}),
                               taxonomy)
    assert label_map.apply(("indie alt",)) == ("indie", "alternative")
    assert label_map.apply(("7", "jazz", "INDIE ALT")) == ("k-pop", "jazz", "indie", "alternative")


@pytest.mark.parametrize("body, message", [
    ("[1, 2]", 'must be a JSON object with "labels"'),
    ('{"labels": {}}', 'must be a JSON object with "labels"'),
    ('{"labels": {"0": 3}}', "'0' must name a genre or a list of genres"),
    ('{"labels": {"0": []}}', "'0' must name a genre or a list of genres"),
    ('{"labels": {"0": ["rock", "yodel"]}}', "'yodel' (for '0') is no genre of this model"),
    ('{"labels": {"Rock": "rock", "rock": "hard-rock"}}', "'rock' is mapped twice (labels match in any case)"),
    ('{"labels": {"0": "rock",}}', "is not JSON: "),
])
def test_a_map_that_cannot_be_used_says_why(taxonomy: Taxonomy, tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(body)
    with pytest.raises(LabelMapError, match="^--label-map ") as refused:
        read_label_map(path, taxonomy)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_map_file_is_named(taxonomy: Taxonomy, tmp_path: Path) -> None:
    with pytest.raises(LabelMapError, match="no such file"):
        read_label_map(tmp_path / "absent.json", taxonomy)


@pytest.mark.parametrize("path", sorted(SHIPPED_MAPS.glob("*.json")), ids=lambda p: p.name)
def test_every_shipped_map_reads_against_the_shipped_taxonomy(taxonomy: Taxonomy, path: Path) -> None:
    """A taxonomy change that drops a genre a shipped map names fails here, not in someone's evaluation."""
    label_map = read_label_map(path, taxonomy)
    assert label_map.about and "genrebot evaluate" in label_map.about  # says where the data comes from and how
    assert all(label_map.genres.values())


def test_the_machinehack_map_reads_its_eleven_numbered_classes(taxonomy: Taxonomy) -> None:
    label_map = read_label_map(SHIPPED_MAPS / "music_genre_classification.json", taxonomy)
    assert sorted(label_map.genres, key=int) == [str(n) for n in range(11)]
    assert {taxonomy.family_of(g) for g in label_map.genres["8"]} == {"metal"}
    assert label_map.apply(("2",)) == ("blues",)
