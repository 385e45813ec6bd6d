"""Genre-mix charts (bot/services/charts.py), read back as the member's client would show them."""

from __future__ import annotations

import io

import numpy as np
from matplotlib import image
from matplotlib.colors import to_rgb

from bot.services import charts

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
