"""Colours, line styles and small helpers shared by the run plots.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot),
so plotting never switches the backend of a notebook or script that imports
this package; PNGs are rendered by Agg when saved.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from evosim.analysis.groups import Group
from evosim.io.files import atomic_write_bytes

#: Founding lineage colours, in founder order (matplotlib's tab10 without grey).
FOUNDER_COLORS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf",
]  # fmt: skip
_DASHES = ["-", "--", "-.", ":"]
_SHADE = [0.0, -0.35, 0.35, -0.55, 0.5, -0.2, 0.2]
DPI = 110
#: What an empty panel says.
NO_SAMPLES = "no samples:\ntimeseries.csv is empty"
NO_SPECIES = "no species: species.csv is missing\n(it is written when the run ends)"


def founder_color(rank: int) -> tuple[float, float, float]:
    """Colour of the founder at position ``rank``."""
    return to_rgb(FOUNDER_COLORS[rank % len(FOUNDER_COLORS)])


def _mix(rgb, amount: float) -> tuple[float, float, float]:
    """Darken (amount < 0) or lighten (amount > 0) a colour."""
    c = np.asarray(rgb)
    out = c * (1 + amount) if amount < 0 else c + (1 - c) * amount
    r, g, b = (float(x) for x in np.clip(out, 0, 1))
    return r, g, b


def line_style(g: Group) -> dict:
    """matplotlib keyword arguments of a group's line.

    The founder's hue; a named species' rank by shade and dash; the pooled
    rest pale and wide, behind the named species.
    """
    base = founder_color(g.founder_rank)
    if g.pooled:
        return {"color": _mix(base, 0.55), "lw": 2.6, "ls": "-", "alpha": 0.8, "zorder": 1}
    return {
        "color": _mix(base, _SHADE[g.rank % len(_SHADE)]),
        "lw": 1.4,
        "ls": _DASHES[g.rank % len(_DASHES)],
        "zorder": 2,
    }


def say(ax, text: str) -> None:
    """Write why a panel is empty in the middle of it."""
    ax.text(
        0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9,
        color="0.25", bbox={"fc": "white", "ec": "0.8", "boxstyle": "round,pad=0.5"}, zorder=10,
    )  # fmt: skip


def wrap(text: str, width_in: float, fontsize: float = 10) -> str:
    """``text`` broken into lines that fit ``width_in`` inches at ``fontsize`` points.

    Each line of ``text`` is wrapped on its own (existing line breaks are kept). The width of a
    character is taken as 0.6 em, a little over DejaVu Sans' average, so a wrapped line fits.
    """
    chars = max(12, int(width_in * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) if line else line for line in text.split("\n"))


def suptitle(fig: Figure, text: str, fontsize: float = 10, margin_in: float = 0.3) -> Text:
    """The figure's title, wrapped to its width (less ``margin_in``), so no end of it is cut off."""
    return fig.suptitle(wrap(text, fig.get_figwidth() - margin_in, fontsize), fontsize=fontsize)


def legend_in_headroom(ax: Axes, top: float, gap: float = 0.06, **kw) -> Legend:
    """A legend across the top of ``ax``, above the data, so that it covers none of it.

    The legend is laid out in as many columns as fit the axes' width, and the y range is raised
    so that ``top`` (the highest drawn value, in data units; a linear y axis) lies below it. Call
    it once the figure's layout is final (after ``tight_layout``, or after a draw of a
    constrained-layout figure), since it measures the legend against the axes.

    Returns:
        The legend.
    """
    box = ax.get_window_extent()
    handles, labels = ax.get_legend_handles_labels()
    n = max(1, len(handles))
    for ncol in range(n, 0, -1):
        leg = ax.legend(handles, labels, loc="upper center", ncol=ncol, **kw)
        if leg.get_window_extent().width <= 0.96 * box.width:
            break
    share = leg.get_window_extent().height / box.height
    lo, hi = ax.get_ylim()
    if top > lo:
        ax.set_ylim(lo, max(hi, lo + (top - lo) / max(1 - share - gap, 0.2)))
    return leg


def save(fig: Figure, path: Path) -> Path:
    """Render ``fig`` to PNG bytes and write them atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())
    return path
