"""The plot of what held the stuck species (``bottlenecks.png``; matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from evosim.reports.outcomes_data import Report  # noqa: E402


def plot_bottlenecks(rep: Report, path: Path) -> Path:
    """Stacked bars: primary bottleneck of the intelligent species that never became technological."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
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
    ax.set_ylabel("intelligent species never technological (all replicates)")
    ax.set_title(
        "What held them (primary label; hatched: still climbing at the horizon)", fontsize=10
    )
    if bottom.any():
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "no intelligent species stuck below technology",
            ha="center",
            transform=ax.transAxes,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
