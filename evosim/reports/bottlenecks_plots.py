"""The plot of what held the stuck species (``bottlenecks.png``; matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from evosim.analysis.style import legend_in_headroom, save, say, wrap  # noqa: E402
from evosim.reports.outcomes_data import Report  # noqa: E402


def bottlenecks_figure(rep: Report) -> Figure:
    """Stacked bars: primary bottleneck of the intelligent species that never became technological.

    The legend sits above the highest bar (the y range raised to make room), covering none.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    bottom = np.zeros(len(rep.arms))
    for b in rep.bottlenecks:
        counts = np.array(
            [
                int(((rep.stuck["arm"] == a) & (rep.stuck["bottleneck"] == b)).sum())
                for a in rep.arms
            ]
        )
        if counts.any():
            climbing = b == "still climbing"  # censored, not a bottleneck: drawn apart
            style: dict[str, Any] = (
                {"color": "0.85", "hatch": "//", "edgecolor": "0.5"} if climbing else {}
            )
            ax.bar(rep.arms, counts, bottom=bottom, label=b + (" (not a bottleneck)" if climbing else ""),
                   **style)  # fmt: skip
            bottom += counts
    ax.set_xticks(np.arange(len(rep.arms)), rep.arms, rotation=20, ha="right")  # long arm names
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("intelligent species never technological\n(all replicates)")
    ax.set_title(
        wrap("What held them (primary label; hatched: still climbing at the horizon)", 6.0, 10),
        fontsize=10,
    )
    if bottom.any():
        fig.draw_without_rendering()  # the layout, for the legend's room
        legend_in_headroom(ax, float(bottom.max()), fontsize=8)
    else:
        say(ax, "no intelligent species stuck below technology")
        ax.set_yticks([])
    return fig


def plot_bottlenecks(rep: Report, path: Path) -> Path:
    """Write :func:`bottlenecks_figure` to ``path``."""
    fig = bottlenecks_figure(rep)
    save(fig, path)
    plt.close(fig)
    return path
