"""What a release year says about a song's genre (classifier/dates.py), and reading the year (features)."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.dates import MAX_LOG_FACTOR, YEAR_EDGES, YearEvidence
from classifier.features import FeatureSchema, featurise, release_year
from training.data import SongRow

OLD, NEW, UNDATED = 0, 1, 2  # genre indices of the made-up songs below


def spread(old_years: list[int], new_years: list[int], undated_genre_songs: int = 0) -> YearEvidence:
    """Evidence counted on songs of genre OLD released in `old_years` and of NEW in `new_years`;
    genre UNDATED's songs have no date."""
    years = np.array(old_years + new_years + [0] * undated_genre_songs)
    genres = [(OLD,)] * len(old_years) + [(NEW,)] * len(new_years) + [(UNDATED,)] * undated_genre_songs
    evidence = YearEvidence.counted(years, genres, 3)
    assert evidence is not None
    return evidence


@pytest.mark.parametrize(("date", "year"), [
    ("2019-06-14", 2019), ("2019-06", 2019), ("2019", 2019), (" 1969-01-01", 1969),
    (None, 0), ("", 0), ("0000", 0), ("0000-00-00", 0), ("19", 0), ("abcd", 0), ("１９９９", 0), ("3019", 0),
])
def test_a_release_date_gives_its_year_or_zero_when_it_is_none(date: str | None, year: int) -> None:
    """Spotify's and Exportify's three precisions give the year; missing, "0000" or not a year is 0."""
    assert release_year(date) == year


def test_featurising_carries_each_songs_year_beside_the_networks_inputs() -> None:
    tracks = [SongRow("a", ("x",), "l", "1987-03-01", 200_000, None, None),
              SongRow("b", ("y",), "l", None, 200_000, None, None)]
    batch = featurise(tracks, FeatureSchema())
    assert batch.years.tolist() == [1987, 0]
    assert batch.subset(np.array([1, 0])).years.tolist() == [0, 1987]


def test_a_genre_whose_songs_are_old_is_favoured_for_an_old_song_and_held_back_for_a_new_one() -> None:
    evidence = spread([1975] * 40 + [2019] * 10, [1975] * 10 + [2019] * 40)
    old_span, new_span = (int(np.searchsorted(YEAR_EDGES, y, side="right")) for y in (1975, 2019))
    assert evidence.log_factors[old_span, OLD] > 0 > evidence.log_factors[new_span, OLD]
    assert evidence.log_factors[new_span, NEW] > 0 > evidence.log_factors[old_span, NEW]


def test_a_genre_no_dated_song_shows_gets_no_evidence_either_way() -> None:
    evidence = spread([1975] * 40, [2019] * 40, undated_genre_songs=30)
    assert np.all(evidence.log_factors[:, UNDATED] == 0)


def test_a_genre_few_dated_songs_show_is_shrunk_towards_no_evidence() -> None:
    """Three old songs say less than three hundred, beside the same songs of another genre."""
    few = spread([1975] * 3, [1975] * 150 + [2019] * 150)
    many = spread([1975] * 300, [1975] * 150 + [2019] * 150)
    old_span = int(np.searchsorted(YEAR_EDGES, 1975, side="right"))
    assert 0 < few.log_factors[old_span, OLD] < many.log_factors[old_span, OLD]


def test_a_factor_is_held_within_e_either_way_however_far_apart_the_years_are() -> None:
    """A genre whose songs are all from 1975, where few songs are (the counts alone: 13 times as
    likely), and one with none there (a twentieth as likely)."""
    evidence = spread([1975] * 30, [2019] * 600)
    old_span = int(np.searchsorted(YEAR_EDGES, 1975, side="right"))
    assert evidence.log_factors[old_span, OLD] == pytest.approx(MAX_LOG_FACTOR)
    assert evidence.log_factors[old_span, NEW] == pytest.approx(-MAX_LOG_FACTOR)
    assert np.abs(evidence.log_factors).max() <= MAX_LOG_FACTOR


def test_no_dated_song_gives_no_evidence() -> None:
    assert YearEvidence.counted(np.zeros(5, dtype=np.int16), [(0,)] * 5, 3) is None


def test_weighing_moves_dated_songs_towards_their_years_genre_and_leaves_undated_songs_alone() -> None:
    evidence = spread([1975] * 40 + [2019] * 10, [1975] * 10 + [2019] * 40)
    unsure = np.full((3, 3), 1 / 3, dtype=np.float32)
    weighed = evidence.apply(unsure, np.array([1975, 2019, 0]))
    assert weighed.dtype == np.float32 and np.allclose(weighed.sum(axis=1), 1)
    assert weighed[0].argmax() == OLD and weighed[1].argmax() == NEW
    assert np.array_equal(weighed[2], unsure[2])
    assert np.array_equal(unsure, np.full((3, 3), 1 / 3, dtype=np.float32))  # the input is not changed


def test_a_stronger_weight_moves_further_and_strength_zero_not_at_all() -> None:
    evidence = spread([1975] * 40 + [2019] * 10, [1975] * 10 + [2019] * 40)
    unsure = np.full((1, 3), 1 / 3, dtype=np.float32)
    old = np.array([1975])
    assert evidence.with_strength(0.0).apply(unsure, old) is unsure
    assert (evidence.with_strength(2.0).apply(unsure, old)[0, OLD]
            > evidence.with_strength(1.0).apply(unsure, old)[0, OLD] > 1 / 3)


def test_the_evidence_round_trips_through_model_json_by_genre_name() -> None:
    evidence = spread([1975] * 40, [2019] * 40, undated_genre_songs=5).with_strength(1.5)
    body = evidence.to_dict(["old", "new", "undated"])
    back = YearEvidence.from_dict(body, ["old", "new", "undated"])
    assert back.edges == evidence.edges and back.strength == 1.5
    assert np.allclose(back.log_factors, evidence.log_factors, atol=1e-4)
    reordered = YearEvidence.from_dict(body, ["undated", "old", "new"])  # read in the taxonomy's own order
    assert np.allclose(reordered.log_factors[:, 1], evidence.log_factors[:, OLD], atol=1e-4)


@pytest.mark.parametrize("broken", [
    lambda body: body.update(log_factors={"old": body["log_factors"]["old"]}),  # genres missing
    lambda body: body["log_factors"].update(old=[0.0]),  # a genre without a factor per span
    lambda body: body.update(edges=list(reversed(body["edges"]))),  # edges out of order
    lambda body: body["log_factors"].update(old=[float("nan")] * (len(body["edges"]) + 1)),
    lambda body: body.pop("strength"),
])
def test_a_hand_edited_evidence_that_does_not_fit_is_refused(broken: object) -> None:
    body = spread([1975] * 40, [2019] * 40).to_dict(["old", "new", "undated"])
    broken(body)  # type: ignore[operator]
    with pytest.raises((ValueError, KeyError)):
        YearEvidence.from_dict(body, ["old", "new", "undated"])
