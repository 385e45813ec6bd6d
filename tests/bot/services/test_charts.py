"""Genre-mix charts (bot/services/charts.py), read back as the member's client would show them."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from matplotlib import image
from matplotlib.colors import to_rgb

from bot.services import charts
from bot.services.genre_names import key_label
from classifier import Classifier

TWENTY_FAMILIES = {f"Family {i}": 100 - 3 * i for i in range(20)}


def pixels_of(png: bytes, colour: str) -> int:
    rgb = image.imread(io.BytesIO(png))[:, :, :3]
    return int(np.all(np.abs(rgb - np.asarray(to_rgb(colour))) < 2 / 255, axis=2).sum())


def test_every_bar_of_a_twenty_family_mix_has_a_colour_of_its_own_and_the_rest_is_grey() -> None:
    """At most 14 families get a bar, each in a colour no other bar has; the other six are folded
    into one grey "other" bar (in the demo's 20-family library, Electronic and Metal were both green)."""
    png = charts.genre_mix_png(TWENTY_FAMILIES, "Genre mix")
    assert png.startswith(b"\x89PNG")
    assert len(set(charts._PALETTE)) == len(charts._PALETTE) == 14
    assert all(pixels_of(png, colour) > 200 for colour in (*charts._PALETTE, charts.OTHER_COLOUR))


def test_a_small_mix_has_no_other_bar() -> None:
    png = charts.genre_mix_png({"Rock": 3, "Jazz & Blues": 2, "Empty": 0}, "Genre mix")
    assert pixels_of(png, charts._PALETTE[0]) > 200 and pixels_of(png, charts._PALETTE[1]) > 200
    assert pixels_of(png, charts._PALETTE[2]) == 0 and pixels_of(png, charts.OTHER_COLOUR) == 0


def test_names_with_dollar_signs_are_drawn_as_typed_not_read_as_math() -> None:
    """A title naming a playlist "$$ Cash $\\frac$" and bars labelled with '$' draw (matplotlib would
    read the text between two '$' as mathtext, and fail on it)."""
    png = charts.genre_mix_png({"$\\frac$ Rock": 3, "Jazz $$": 2}, "Genre mix of 5 songs in $$ Cash $\\frac$")
    assert pixels_of(png, charts._PALETTE[0]) > 200 and pixels_of(png, charts._PALETTE[1]) > 200


def edges_are_blank(png: bytes) -> bool:
    """Nothing is drawn in the outermost pixels: no label or title runs off the image."""
    rgb = image.imread(io.BytesIO(png))[:, :, :3]
    return bool(np.all(rgb[:, :3] > 0.95) and np.all(rgb[:, -3:] > 0.95))


def test_long_names_are_shortened_so_labels_and_title_stay_on_the_chart() -> None:
    """A 100-character family and a 60-character playlist name in a 12,345-song title are cut
    with "…" instead of running off the image's edges (before, both were clipped mid-word)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.genre_mix_png({"W" * 100: 30, "Jazz & Blues": 20}, "Genre mix of 12,345 songs",
                                   source="Road trip with the whole family and all the cousins, 2019 ed.")
    assert edges_are_blank(png)
    assert not [w for w in caught if "layout" in str(w.message)]
    assert pixels_of(png, charts._PALETTE[0]) > 200 and pixels_of(png, charts._PALETTE[1]) > 200


def test_a_playlist_name_the_chart_fonts_cannot_draw_is_left_out_not_drawn_as_boxes() -> None:
    """A playlist named 'ドライブ 🚗 드라이브' would be empty boxes in the chart's title: the title says
    'your playlist' (the reply above the chart names it); a name the fonts draw stays."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.genre_mix_png({"Rock": 3, "K-Pop": 2}, "Genre mix of 5 songs", source="ドライブ 🚗 드라이브")
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert charts.chart_title("Genre mix of 5 songs", "ドライブ 🚗") == "Genre mix of 5 songs in your playlist"
    assert charts.chart_title("Genre mix of 5 songs", "Forró & Café") == "Genre mix of 5 songs in Forró & Café"
    assert charts.chart_title("Genre mix of 5 songs", "ドライブ") == "Genre mix of 5 songs in your playlist"


def test_right_to_left_names_are_drawn_only_by_a_matplotlib_that_orders_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib 3.11 shapes Arabic and orders Hebrew right to left: their names stay in the title.
    An older one (pyproject allows 3.8) drew loose letters in the wrong order: 'your playlist'."""
    assert charts.SHAPES_TEXT  # the pinned matplotlib
    assert charts.chart_title("Genre mix of 5 songs", "رحلة الصيف") == "Genre mix of 5 songs in رحلة الصيف"
    monkeypatch.setattr(charts, "SHAPES_TEXT", False)
    for unshaped in ["رحلة الصيف", "נסיעה"]:
        assert charts.chart_title("Genre mix of 5 songs", unshaped) == "Genre mix of 5 songs in your playlist"
    assert charts.chart_title("Genre mix of 5 liked songs", None) == "Genre mix of 5 liked songs"


def test_every_label_of_the_shipped_model_is_drawn_whole() -> None:
    """Only names longer than any the shipped taxonomy has are cut ("Iranian Electronic & Experimental" is whole)."""
    taxonomy = Classifier.load().taxonomy
    labels = [key_label(f, taxonomy) for f in taxonomy.families]
    labels += [key_label(f"{taxonomy.family_of(g)}/{g}", taxonomy) for g in taxonomy.genres]
    assert max(map(len, labels)) <= charts.LABEL_LIMIT


def test_bars_may_share_a_label() -> None:
    """A leaderboard's tied fans are '#1' and '#1': each keeps a bar of its own."""
    png = charts.genre_mix_png([("#1", 5), ("#1", 5), ("#3", 2)], "Top Rock fans by songs")
    assert all(pixels_of(png, colour) > 200 for colour in charts._PALETTE[:3])
