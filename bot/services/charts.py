"""PNG charts of a genre mix, for `/sort`, `/stats`, `/leaderboard` and the demo.

Rendering is blocking (matplotlib); callers run it in a thread. Uses the Agg backend only, so
it works on machines without a display.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (backend must be chosen first)

# Fourteen colours, so a chart's bars (at most 14 and "other") never share one; "other" is grey.
_PALETTE = ("#1db954", "#5865f2", "#f59e0b", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16",
            "#f97316", "#14b8a6", "#a16207", "#d946ef", "#1e3a8a", "#4d7c0f")
OTHER_COLOUR = "#9ca3af"
OTHER = "other"
# pyplot's global state is not thread-safe; Figure objects are, but font caching is shared.
_render_lock = threading.Lock()


def genre_mix_png(counts: Mapping[str, int], title: str, *, max_bars: int = 15) -> bytes:
    """A horizontal bar chart of songs per genre, largest first, with the rest folded in 'other'."""
    items = sorted(((k, v) for k, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
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
        figure = Figure(figsize=(7, 0.45 * max(len(items), 3) + 1.2), dpi=110)
        axes = figure.add_subplot()
        # Names come from outside (a playlist's name in the title, a model's labels on the bars):
        # matplotlib would read text between two '$' as mathtext and fail on most of it.
        bars = axes.barh(range(len(labels)), values, color=colours)
        axes.set_yticks(range(len(labels)), labels, parse_math=False)
        for bar, value in zip(bars, values, strict=True):
            axes.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f"  {value} ({value / total:.0%})",
                va="center",
                fontsize=9,
                parse_math=False,
            )
        axes.set_title(title, fontsize=12, parse_math=False)
        axes.set_xlabel("songs")
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values, default=1) * 1.25)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()
