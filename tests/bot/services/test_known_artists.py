"""When a sort tells a member how many of its songs are by artists the model met in training."""

from __future__ import annotations

from bot.services.known_artists import KnownArtists


def test_a_sort_says_nothing_while_nine_in_ten_songs_are_by_known_artists() -> None:
    """90 % or more by known artists is not worth telling; fewer is; an empty sort never is."""
    assert not KnownArtists(songs=100, known=90).worth_telling
    assert KnownArtists(songs=100, known=89).worth_telling
    assert KnownArtists(songs=239, known=180).worth_telling and KnownArtists(239, 180).unknown == 59
    assert not KnownArtists(songs=0, known=0).worth_telling
