"""The two-level taxonomy (classifier/taxonomy.py) and the shipped taxonomy file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.taxonomy import Resolved, Taxonomy, TaxonomyError

SHIPPED = Path(__file__).resolve().parents[2] / "training" / "taxonomy.json"
# The label columns of both training sets (../shared/data/README.md): names, not data rows.
LABELS_114 = (
    "acoustic afrobeat alt-rock alternative ambient anime black-metal bluegrass blues brazil breakbeat british "
    "cantopop chicago-house children chill classical club comedy country dance dancehall death-metal deep-house "
    "detroit-techno disco disney drum-and-bass dub dubstep edm electro electronic emo folk forro french funk "
    "garage german gospel goth grindcore groove grunge guitar happy hard-rock hardcore hardstyle heavy-metal "
    "hip-hop honky-tonk house idm indian indie indie-pop industrial iranian j-dance j-idol j-pop j-rock jazz "
    "k-pop kids latin latino malay mandopop metal metalcore minimal-techno mpb new-age opera pagode party piano "
    "pop pop-film power-pop progressive-house psych-rock punk punk-rock r-n-b reggae reggaeton rock rock-n-roll "
    "rockabilly romance sad salsa samba sertanejo show-tunes singer-songwriter ska sleep songwriter soul spanish "
    "study swedish synth-pop tango techno trance trip-hop turkish world-music"
).split()
SUBGENRES_30K = {
    "edm": ["electro house", "big room", "pop edm", "progressive electro house"],
    "latin": ["tropical", "latin pop", "reggaeton", "latin hip hop"],
    "pop": ["dance pop", "post-teen pop", "electropop", "indie poptimism"],
    "r&b": ["urban contemporary", "hip pop", "new jack swing", "neo soul"],
    "rap": ["hip hop", "southern hip hop", "gangster rap", "trap"],
    "rock": ["album rock", "classic rock", "permanent wave", "hard rock"],
}


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(SHIPPED)


def test_all_114_labels_resolve_to_a_genre(taxonomy: Taxonomy) -> None:
    """Every label of the 114-genre set names exactly one genre, verbatim or through an alias."""
    assert len(LABELS_114) == 114
    unresolved = [label for label in LABELS_114 if taxonomy.genre_of_label(label) is None]
    assert unresolved == []


def test_30k_genres_and_subgenres_resolve_and_agree_on_the_family(taxonomy: Taxonomy) -> None:
    """Each of the 30k set's subgenres is a genre in the family its own genre resolves to."""
    for genre, subgenres in SUBGENRES_30K.items():
        family = taxonomy.family_of(taxonomy.genre_of_label(genre) or "")
        for sub in subgenres:
            resolved = taxonomy.genre_of_label(sub)
            assert resolved is not None, sub
            assert taxonomy.family_of(resolved) == family, (genre, sub)


def test_shipped_taxonomy_has_at_least_14_families_and_each_genre_one_family(taxonomy: Taxonomy) -> None:
    """Families a person recognises, each genre under exactly one of them."""
    assert len(taxonomy.families) >= 14
    assert sorted(g for f in taxonomy.families for g in taxonomy.children[f]) == sorted(taxonomy.genres)
    assert len(set(taxonomy.genres)) == len(taxonomy.genres)


def test_a_genre_in_two_families_is_refused() -> None:
    """The file cannot put one genre under two families."""
    with pytest.raises(TaxonomyError, match="two families"):
        Taxonomy([{"key": "rock", "genres": [{"key": "grunge"}]}, {"key": "metal", "genres": [{"key": "grunge"}]}])


def test_an_alias_naming_two_genres_is_refused() -> None:
    """An alias (or label) must name one genre only."""
    with pytest.raises(TaxonomyError, match="names two genres"):
        Taxonomy([{"key": "rock", "genres": [{"key": "a", "aliases": ["x"]}, {"key": "b", "aliases": ["x"]}]}])


def test_resolve_reads_keys_labels_and_aliases_in_any_case(taxonomy: Taxonomy) -> None:
    """'JAZZ', 'K-Pop', 'hard rock' and 'r&b' are what members type; each resolves."""
    assert taxonomy.resolve("JAZZ") == Resolved("family", "jazz")
    assert taxonomy.resolve("K-Pop") == Resolved("genre", "k-pop")
    assert taxonomy.resolve("hard rock") == Resolved("genre", "hard-rock")
    assert taxonomy.resolve("r&b", "genre") == Resolved("genre", "r-n-b")


def test_a_family_wins_over_a_genre_of_the_same_name_unless_asked(taxonomy: Taxonomy) -> None:
    """'rock' is the family by default, and the genre when the genre level is asked for."""
    assert taxonomy.resolve("rock") == Resolved("family", "rock")
    assert taxonomy.resolve("rock", "genre") == Resolved("genre", "rock")


def test_todays_six_genre_option_values_still_resolve(taxonomy: Taxonomy) -> None:
    """The old /sort values (edm, latin, pop, r&b, rap, rock) name families now."""
    assert [taxonomy.resolve(v).key for v in ("edm", "latin", "pop", "r&b", "rap", "rock")] == [  # type: ignore[union-attr]
        "electronic", "latin", "pop", "r&b", "hip-hop", "rock"]


def test_unknown_text_resolves_to_nothing(taxonomy: Taxonomy) -> None:
    """Text that names nothing gives None, not a guess."""
    assert taxonomy.resolve("polka-trance-fusion") is None
    assert taxonomy.resolve("   ") is None


def test_display_labels_say_what_a_key_is(taxonomy: Taxonomy) -> None:
    """Keys are for machines; labels are what members read."""
    assert taxonomy.label("k-pop") == "K-Pop"
    assert taxonomy.label("r-n-b") == "R&B"
    assert taxonomy.label("r&b") == "R&B & Soul"


def test_listing_is_families_to_genres_and_aliases_to_genres(taxonomy: Taxonomy) -> None:
    """`genres --json`'s shape: exactly the two keys, aliases pointing at real genres."""
    listing = taxonomy.listing()
    assert set(listing) == {"families", "aliases"}
    assert list(listing["families"]) == taxonomy.families
    assert set(listing["aliases"].values()) <= set(taxonomy.genres)
    assert listing["aliases"]["songwriter"] == "singer-songwriter"


def test_saved_taxonomy_loads_back_the_same(taxonomy: Taxonomy, tmp_path: Path) -> None:
    """The copy written into a model directory is the same taxonomy."""
    taxonomy.save(tmp_path / "taxonomy.json")
    again = Taxonomy.load(tmp_path / "taxonomy.json")
    assert again.listing() == taxonomy.listing() and again.genres == taxonomy.genres
    assert again.label("r&b") == taxonomy.label("r&b")


def test_membership_sums_genres_into_their_family(taxonomy: Taxonomy) -> None:
    """A genre's probability counts for its family and no other."""
    assert (taxonomy.membership.sum(axis=1) == 1).all()
    jazz = taxonomy.family_index["jazz"]
    assert taxonomy.membership[taxonomy.genre_index["blues"], jazz] == 1


def test_the_decision_takes_the_family_with_the_most_probability_and_its_best_genre() -> None:
    """Two families: one strong genre of the first loses to two middling genres of the second, and the
    genre chosen is the second family's best, not the first family's stronger one."""
    taxonomy = Taxonomy([{"key": "rock", "genres": [{"key": "metal"}]},
                         {"key": "electronic", "genres": [{"key": "house"}, {"key": "techno"}]}])
    probabilities = np.array([[0.40, 0.35, 0.25], [0.70, 0.20, 0.10]])
    families, genres = taxonomy.decide(probabilities)
    assert [taxonomy.families[f] for f in families] == ["electronic", "rock"]
    assert [taxonomy.genres[g] for g in genres] == ["house", "metal"]
    assert taxonomy.family_sets([(0, 2), (1, 2)]) == [(0, 1), (1,)]


def test_rebalancing_moves_songs_between_a_familys_genres_never_between_families() -> None:
    """Weighting techno up turns a house-leaning row to techno; each family keeps its total, and a
    row not asked for is left as it was."""
    taxonomy = Taxonomy([{"key": "rock", "genres": [{"key": "metal"}]},
                         {"key": "electronic", "genres": [{"key": "house"}, {"key": "techno"}]}])
    probabilities = np.array([[0.40, 0.35, 0.25], [0.10, 0.55, 0.35]], dtype=np.float32)
    weights = np.log(np.array([1.0, 1.0, 3.0]))
    balanced = taxonomy.rebalanced(probabilities, weights, np.array([1]))
    assert balanced[0].tolist() == probabilities[0].tolist()
    assert np.allclose(balanced @ taxonomy.membership, probabilities @ taxonomy.membership, atol=1e-6)
    assert [taxonomy.genres[g] for g in taxonomy.decide(balanced)[1]] == ["house", "techno"]
    assert [taxonomy.genres[g] for g in taxonomy.decide(probabilities)[1]] == ["house", "house"]


def test_a_songs_families_keep_the_order_of_its_genres(taxonomy: Taxonomy) -> None:
    """A song labelled reggaeton then pop is latin then pop at family level: the any-of-its-labels
    rule scores a miss against the first label, so its family must be the first one (a set made it
    pop, whichever genre came first)."""
    genres = (taxonomy.genre_index["reggaeton"], taxonomy.genre_index["pop"], taxonomy.genre_index["latin"])
    assert taxonomy.family_sets([genres]) == [(taxonomy.families.index("latin"), taxonomy.families.index("pop"))]
