"""Colours, line styles and small helpers shared by the run plots.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot),
so plotting never switches the backend of a notebook or script that imports
this package; PNGs are rendered by Agg when saved.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

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


def save(fig: Figure, path: Path) -> Path:
    """Render ``fig`` to PNG bytes and write them atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())
    return path
