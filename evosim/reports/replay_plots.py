"""The plot of a replay's causal table: causal.png (matplotlib; docs/replay.md)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from evosim.analysis.style import save, say, suptitle  # noqa: E402

#: Hazard ratios are drawn within [1 / HR_CLIP, HR_CLIP] (a clipped end is drawn as an arrowhead).
HR_CLIP = 100.0


def causal_figure(table: pd.DataFrame, name: str) -> Figure:
    """Per branch and relief of the causal ``table`` of replay ``name``, coloured by verdict (forest
    plots): left, ``diff`` (whether) with its interval; right, the hazard ratio of the time to
    technology (when) with its interval, on a log scale. Each row has half a row of room above and
    below, so its labels ("no fit") stay inside the frame."""
    colors = {"bottleneck": "tab:green", "delay": "tab:blue", "harmful": "tab:red",
              "no effect detected": "0.5"}  # fmt: skip
    fig, (ax, hx) = plt.subplots(
        1, 2, sharey=True, figsize=(11, 1.9 + 0.32 * max(1, len(table))),
        gridspec_kw={"width_ratios": [1.4, 1]}, layout="constrained",
    )  # fmt: skip
    if not len(table):
        say(ax, "no finished futures yet")
    for i, (_, r) in enumerate(table.iloc[::-1].iterrows()):
        c = colors.get(str(r["verdict"]), "0.5")
        ax.plot([r["diff_low"], r["diff_high"]], [i, i], color=c, lw=2)
        ax.plot([r["diff"]], [i], "o", color=c)
        _hazard(hx, i, r, c)
    ax.set_yticks(range(len(table)), [f"{c} · {r}" for c, r in
                                      zip(table["clade"][::-1], table["relief"][::-1])], fontsize=7)  # fmt: skip
    ax.set_ylim(-0.6, max(1, len(table)) - 0.4)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("whether: P(technological within H | relief) − P(… | none),\nNewcombe 95 %")
    ax.grid(alpha=0.3, axis="x")
    hx.set_xscale("log")
    hx.set_xlim(1 / HR_CLIP / 1.5, HR_CLIP * 1.5)
    hx.axvline(1, color="k", lw=0.8)
    hx.set_xlabel(
        "when: hazard ratio of the time to technology\n(Cox, 95 %; > 1 sooner with the relief)"
    )
    hx.grid(alpha=0.3, axis="x")
    suptitle(fig, f"{name}: green bottleneck, blue delay, red harmful, grey no effect", fontsize=9)
    return fig


def plot_causal(rep: tuple[pd.DataFrame, str], out: Path) -> list[Path]:
    """Write :func:`causal_figure` of ``rep`` (the causal table, the replay's name) to ``out/causal.png``."""
    fig = causal_figure(*rep)
    save(fig, out / "causal.png")
    plt.close(fig)
    return [out / "causal.png"]


def _hazard(hx: plt.Axes, i: int, r: pd.Series, c: str) -> None:
    """Row ``i`` of the hazard-ratio panel: the ratio and its interval, clipped to the panel; none
    where it could not be fitted (no event in either group)."""
    hr, lo, hi = (float(r[k]) for k in ("hr", "hr_low", "hr_high"))
    if not np.isfinite(hr) or hr <= 0:
        why = ("no fit (too few events)" if np.isnan(hr) else
               f"→ {'∞: sooner' if hr > 1 else '0: later'} (no finite estimate)")  # fmt: skip
        hx.text(1, i, why, color=c, ha="center", va="center", fontsize=7,
                bbox={"fc": "white", "ec": "none", "pad": 1})  # fmt: skip
        return
    clip = (1 / HR_CLIP, HR_CLIP)
    lo_c, hi_c = np.clip([lo if np.isfinite(lo) and lo > 0 else clip[0], hi], *clip)
    hx.plot([lo_c, hi_c], [i, i], color=c, lw=2)
    hx.plot([np.clip(hr, *clip)], [i], "o", color=c)
    for end, edge, marker in ((lo_c, clip[0], "<"), (hi_c, clip[1], ">")):
        if end == edge:
            hx.plot([end], [i], marker, color=c, ms=5)
