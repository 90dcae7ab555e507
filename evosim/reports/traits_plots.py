"""The plot of which traits predict technology: trait_hazards.png (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evosim.analysis.style import save, say  # noqa: E402

#: Where the log axis is labelled (those within the drawn range).
TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 5, 10, 20, 50, 100)


def plot_hazards(hazards: pd.DataFrame, path: Path, arm: str) -> Path:
    """Per covariate, the hazard ratio of technology per 0.1 with its 95 % interval (log scale);
    covariates without a fit are listed as such."""
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.3 * max(1, len(hazards))))
    fitted = hazards["hazard_ratio"].notna()
    if not fitted.any():
        say(ax, "no hazard ratio could be fitted (no technological clade, or no variation)")
    for i, (_, r) in enumerate(hazards.iloc[::-1].iterrows()):
        if not np.isfinite(r["hazard_ratio"]):
            ax.text(1, i, "no fit", ha="center", va="center", fontsize=7, color="0.4")
            continue
        sig = r["ci_low"] > 1 or r["ci_high"] < 1
        c = "tab:green" if sig and r["hazard_ratio"] > 1 else ("tab:red" if sig else "0.4")
        ax.plot([r["ci_low"], r["ci_high"]], [i, i], color=c, lw=2)
        ax.plot([r["hazard_ratio"]], [i], "o", color=c)
    ax.set_yticks(range(len(hazards)), list(hazards["covariate"][::-1]), fontsize=7)
    ax.set_ylim(-0.7, max(1, len(hazards)) - 0.3)
    ax.set_xscale("log")
    ends = hazards.loc[fitted, ["ci_low", "ci_high"]].to_numpy(float)
    ends = ends[np.isfinite(ends) & (ends > 0)]
    lo, hi = (min(ends.min(), 0.8), max(ends.max(), 1.25)) if len(ends) else (0.5, 2.0)
    ax.set_xlim(lo / 1.1, hi * 1.1)
    ticks = [t for t in TICKS if lo / 1.1 <= t <= hi * 1.1]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axvline(1, color="k", lw=0.8)
    ax.set_xlabel("hazard ratio of technology per 0.1 of the trait (Cox, 95 %; > 1: sooner)")
    ax.set_title(
        f"Which traits predict technology ({arm} arm): green sooner, red later", fontsize=9
    )
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path
