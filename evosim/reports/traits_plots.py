"""The plot of which traits predict technology: trait_hazards.png (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from evosim.analysis.style import save  # noqa: E402

#: Where the log axis is labelled (those within the drawn range).
TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2, 5, 10, 20, 50, 100)


def _ticks(lo: float, hi: float, most: int = 10) -> list[float]:
    """The :data:`TICKS` within [lo, hi], thinned so neighbours are at least 1/``most`` of the range apart (log)."""
    span = np.log10(hi) - np.log10(lo)
    out: list[float] = []
    for t in sorted(TICKS, key=lambda t: (t != 1, abs(np.log10(t)))):  # 1 first, then outwards
        if lo <= t <= hi and all(abs(np.log10(t / u)) >= span / most for u in out):
            out.append(t)
    return sorted(out)


#: the x axis spans at most [1 / CAP, CAP]; an interval beyond is drawn to the edge with an arrow
CAP = 100.0


def _short(note: object) -> str:
    """A covariate's reason for no fit (``note``), short enough for the plot: without a long
    parenthesis."""
    if not isinstance(note, str) or not note:
        return "no fit"
    head, _, rest = note.partition(" (")
    return f"not estimable: {head if len(rest) > 16 else note}"


def plot_hazards(
    hazards: pd.DataFrame, path: Path, arm: str, pooled: pd.DataFrame | None = None
) -> Path:
    """Per covariate, the hazard ratio of technology per 0.1 with its 95 % interval (log scale);
    covariates without a fit are listed with the reason (``note``). ``pooled``: the all-arms fit,
    drawn below each of the ``arm``'s rows as an open marker. The axis spans the intervals, at
    most [1/:data:`CAP`, :data:`CAP`]; an interval or ratio beyond ends at the edge in an arrow."""
    fig, ax = plt.subplots(
        figsize=(7, 1.2 + (0.42 if pooled is not None else 0.3) * max(1, len(hazards)))
    )
    sets = [(hazards, 0.0 if pooled is None else 0.15, "o", f"{arm} arm")]
    if pooled is not None:
        pooled = pooled.set_index("covariate").reindex(hazards["covariate"]).reset_index()
        sets.append((pooled, -0.15, "s", "all arms pooled (open)"))
    ends = np.concatenate(
        [
            t.loc[t["hazard_ratio"].notna(), ["ci_low", "ci_high", "hazard_ratio"]]
            .to_numpy(float)
            .ravel()
            for t, *_ in sets
        ]
    )
    ends = ends[np.isfinite(ends) & (ends > 0)]
    lo, hi = (min(ends.min(), 0.8), max(ends.max(), 1.25)) if len(ends) else (0.5, 2.0)
    lo, hi = max(lo, 1 / CAP), min(hi, CAP)  # what is drawn; beyond: an arrow at lo or hi
    any_fit = False
    for table, dy, marker, _label in sets:
        for i, (_, r) in enumerate(table.iloc[::-1].iterrows()):
            if not np.isfinite(r["hazard_ratio"]):
                text = _short(r.get("note"))
                ax.text(np.sqrt(lo * hi), i + dy, text if dy >= 0 else f"pooled: {text}",
                        ha="center", va="center", fontsize=6.5, color="0.35", zorder=3,
                        bbox={"fc": "white", "ec": "none", "pad": 0.4})  # fmt: skip
                continue
            any_fit = True
            sig = r["ci_low"] > 1 or r["ci_high"] < 1
            c = "tab:green" if sig and r["hazard_ratio"] > 1 else ("tab:red" if sig else "0.4")
            a, b = max(r["ci_low"], lo), min(r["ci_high"], hi)
            ax.plot([a, b], [i + dy, i + dy], color=c, lw=2 if dy >= 0 else 1.2)
            for end, beyond, head in ((lo / 1.08, r["ci_low"] < lo, "<"),
                                      (hi * 1.08, r["ci_high"] > hi, ">")):  # fmt: skip
                if beyond:
                    ax.plot([a if head == "<" else end, end if head == "<" else b], [i + dy] * 2,
                            color=c, lw=1)  # fmt: skip
                    ax.plot([end], [i + dy], head, color=c, ms=5)
            face = c if dy >= 0 else "white"
            ax.plot([min(max(r["hazard_ratio"], lo), hi)], [i + dy], marker, color=c, mfc=face)
    ax.set_yticks(range(len(hazards)), list(hazards["covariate"][::-1]), fontsize=7)
    ax.set_ylim(-0.7, max(1, len(hazards)) - 0.3)
    ax.set_xscale("log")
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ticks = _ticks(lo / 1.15, hi * 1.15)
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.axvline(1, color="k", lw=0.8)
    ax.set_xlabel("hazard ratio of technology per 0.1 of the trait (Cox, 95 %; > 1: sooner)")
    title = "Which traits predict technology: green sooner, red later"
    if not any_fit:
        title += "\nno hazard ratio is estimable (the reason at each trait)"
    ax.set_title(title, fontsize=9)
    if pooled is not None and any_fit:
        handles = [Line2D([], [], color="0.4", marker=m, mfc="0.4" if dy >= 0 else "white", label=lab)
                   for _, dy, m, lab in sets]  # fmt: skip
        ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path
