"""PNG charts of a genre mix, for `/sort`, `/stats`, `/leaderboard` and the demo.

Rendering is blocking (matplotlib); callers run it in a thread. Uses the Agg backend only, so
it works on machines without a display.
"""

from __future__ import annotations

import functools
import io
import textwrap
import threading
import unicodedata
from collections.abc import Iterable, Mapping

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager, ft2font  # noqa: E402  (backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from bot.services.genre_names import shorten  # noqa: E402

# Fourteen colours, so a chart's bars (at most 14 and "other") never share one; "other" is grey.
_PALETTE = ("#1db954", "#5865f2", "#f59e0b", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16",
            "#f97316", "#14b8a6", "#a16207", "#d946ef", "#1e3a8a", "#4d7c0f")
OTHER_COLOUR = "#9ca3af"
OTHER = "other"
# pyplot's global state is not thread-safe; Figure objects are, but font caching is shared.
_render_lock = threading.Lock()
# matplotlib's own font first, then Noto where the machine has it (Debian's fonts-noto-core,
# fonts-noto-cjk), each character drawn by the first font that has it.
_FONTS = ("DejaVu Sans", "Noto Sans", "Noto Sans CJK JP")
# matplotlib shapes text and puts right-to-left scripts in order from 3.11 on (libraqm,
# matplotlib#30000); before, it drew Arabic, Hebrew or Devanagari as loose letters in the wrong
# order, so with an older matplotlib those count as undrawable even where a font has their glyphs.
SHAPES_TEXT = hasattr(ft2font, "__libraqm_version__")
_RIGHT_TO_LEFT = {"R", "AL", "AN"}
# Indic scripts, Sinhala and Thai (U+0900-0DFF), Myanmar, Khmer.
_SHAPED = frozenset([*range(0x0900, 0x0E00), *range(0x1000, 0x10A0), *range(0x1780, 0x1800)])
# What fits an 8-inch chart: a bar's label beside its bar, and each of the title's two lines.
LABEL_LIMIT = 36  # the shipped model's longest, "Iranian Electronic & Experimental", is 33
TITLE_LINE = 62


@functools.cache
def _installed_fonts() -> tuple[tuple[str, ...], tuple[FT2Font, ...]]:
    names: list[str] = []
    fonts: list[FT2Font] = []
    for name in _FONTS:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        except ValueError:
            continue
        if path not in [font.fname for font in fonts]:
            names.append(name)
            fonts.append(FT2Font(path))
    return tuple(names), tuple(fonts)


def drawable(text: str) -> bool:
    """Whether the chart's fonts have every character of `text` (else matplotlib draws boxes)."""
    fonts = _installed_fonts()[1]
    return all(char.isspace() or (_laid_out(char) and any(font.get_char_index(ord(char)) for font in fonts))
               for char in text)


def _laid_out(char: str) -> bool:
    return SHAPES_TEXT or (unicodedata.bidirectional(char) not in _RIGHT_TO_LEFT and ord(char) not in _SHAPED)


def chart_title(title: str, source: str | None) -> str:
    """'Genre mix of 37 songs in Road Trip'; a playlist name the fonts cannot draw (Japanese, an
    emoji, on a machine without their fonts) is 'your playlist': the reply above the chart names it."""
    if source is None:
        return title
    name = shorten(source, 60)
    return f"{title} in {name if drawable(name) else 'your playlist'}"


def genre_mix_png(counts: Mapping[str, int] | Iterable[tuple[str, int]], title: str, *, source: str | None = None,
                  max_bars: int = 15) -> bytes:
    """A horizontal bar chart of songs per genre (or per label: pairs may share one), largest
    first, with the rest folded in 'other'; the title names the `source` playlist, if any. Long
    names are cut to fit the image."""
    with _render_lock:  # the font cache is shared
        fonts = list(_installed_fonts()[0])
        title = chart_title(title, source)
    lines = textwrap.wrap(title, TITLE_LINE) or [""]
    title = "\n".join([*lines[:1], *([shorten(" ".join(lines[1:]), TITLE_LINE)] if lines[1:] else [])])
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    items = sorted(((shorten(k, LABEL_LIMIT), v) for k, v in pairs if v > 0), key=lambda kv: (-kv[1], kv[0]))
    colours = [_PALETTE[i % len(_PALETTE)] for i in range(len(items))]
    if len(items) > max_bars:
        rest = sum(v for _, v in items[max_bars - 1 :])
        items = [*items[: max_bars - 1], (OTHER, rest)]
        colours = [*colours[: max_bars - 1], OTHER_COLOUR]
    labels = [k for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    colours = colours[::-1]
    total = sum(values) or 1
    with _render_lock:
        figure = Figure(figsize=(8, 0.45 * max(len(items), 3) + 1.2), dpi=110)
        axes = figure.add_subplot()
        # Names come from outside (a playlist's name in the title, a model's labels on the bars):
        # matplotlib would read text between two '$' as mathtext and fail on most of it.
        bars = axes.barh(range(len(labels)), values, color=colours)
        axes.set_yticks(range(len(labels)), labels, parse_math=False, fontfamily=fonts)
        for bar, value in zip(bars, values, strict=True):
            axes.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f"  {value} ({value / total:.0%})",
                va="center",
                fontsize=9,
                parse_math=False,
            )
        figure.suptitle(title, fontsize=12, parse_math=False, fontfamily=fonts)  # centred on the image, not the bars
        axes.set_xlabel("songs")
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values, default=1) * 1.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
