"""The plot of a replay's causal table: causal.png (matplotlib; docs/replay.md)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from evosim.analysis.style import save, say  # noqa: E402


def plot_causal(rep: tuple[pd.DataFrame, str], out: Path) -> list[Path]:
    """``causal.png`` in ``out``: per branch and relief of the causal table ``rep`` (table, replay
    name), ``diff`` with its interval, coloured by verdict (a forest plot)."""
    table, name = rep
    colors = {"bottleneck": "tab:green", "delay": "tab:blue", "harmful": "tab:red",
              "no effect detected": "0.5"}  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * max(1, len(table))))
    if not len(table):
        say(ax, "no finished futures yet")
    for i, (_, r) in enumerate(table.iloc[::-1].iterrows()):
        c = colors.get(str(r["verdict"]), "0.5")
        ax.plot([r["diff_low"], r["diff_high"]], [i, i], color=c, lw=2)
        ax.plot([r["diff"]], [i], "o", color=c)
    ax.set_yticks(range(len(table)), [f"{c} · {r}" for c, r in
                                      zip(table["clade"][::-1], table["relief"][::-1])], fontsize=7)  # fmt: skip
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("P(technological within H | relief) − P(… | none), Newcombe 95 %")
    ax.set_title(f"{name}: green bottleneck, blue delay, red harmful, grey no effect", fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    save(fig, out / "causal.png")
    plt.close(fig)
    return [out / "causal.png"]
