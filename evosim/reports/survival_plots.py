"""The time-to-event plots of the hard-paths report: survival.png, clade_incidence.png (lifelines, matplotlib).

Drawn from the same per-run and per-clade times as survival.csv
(:mod:`evosim.analysis.survival`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from evosim.analysis.survival import aj, clade_times, km, run_times  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def plot_survival(runs: pd.DataFrame, arms: list[str], name: str, path: Path) -> Path:
    """Per arm, the Kaplan-Meier share of replicates with a technological species by tick and by FLOP.

    Drawn as 1 - S (rising: the share that got there), with censoring marks (+) and the numbers at
    risk under each panel.
    """
    from lifelines.plotting import add_at_risk_counts

    rt = run_times(runs)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    for ax, col, xlabel in ((axes[0], "ticks", "tick"), (axes[1], "flop", "FLOP (estimated)")):
        fits = []
        for i, arm in enumerate(arms):
            r = rt[rt["arm"] == arm]
            if not len(r):
                continue
            fit = km(r[col], r["event"], label=arm)
            fit.plot_cumulative_density(ax=ax, ci_show=True, show_censors=True, color=COLORS[i % len(COLORS)],
                                        censor_styles={"ms": 7, "marker": "+"})  # fmt: skip
            fits.append(fit)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of replicates with a technological species")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        if fits:
            add_at_risk_counts(*fits, ax=ax, rows_to_show=["At risk", "Events"], fontsize=7)
    axes[0].set_title("ticks to the first technological species", fontsize=10)
    axes[1].set_title("compute to the first technological species", fontsize=10)
    fig.suptitle(f"{name}: Kaplan–Meier, 95% intervals; + = censored (no technological species by its end)",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_clade_incidence(clades: pd.DataFrame, arms: list[str], name: str, path: Path) -> Path:
    """Per founding clade (one panel each), per arm: Aalen-Johansen cumulative incidence of technology
    (solid) and of extinction first (dashed) against ticks since the clade became intelligent."""
    ct = clade_times(clades)
    names = [str(c) for c in pd.unique(ct["clade"])] if len(ct) else []
    n = max(len(names), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n + 0.5, 4.6), squeeze=False, sharey=True)
    for j, cname in enumerate(names):
        ax = axes[0, j]
        for i, arm in enumerate(arms):
            c = ct[(ct["clade"] == cname) & (ct["arm"] == arm)]
            if not len(c):
                continue
            color = COLORS[i % len(COLORS)]
            ev = c["event"].to_numpy()
            label = f"{arm} ({int((ev == 1).sum())} tech / {len(ev)})"
            aj(c["duration"], ev).plot_cumulative_density(
                ax=ax, ci_show=True, color=color, label=label
            )
            if (ev == 2).any():
                aj(c["duration"], ev, of=2).plot_cumulative_density(ax=ax, ci_show=False, color=color, ls="--", lw=0.9,
                                                 label="_nolegend_")  # fmt: skip
            cens = c.loc[ev == 0, "duration"]
            if len(cens):
                ax.plot(cens, [-0.01] * len(cens), "|", color=color, ms=8)
        ax.set_title(cname, fontsize=10)
        ax.set_xlabel("ticks since the clade became intelligent")
        ax.set_ylim(-0.03, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")  # the curves rise early: where they are not
    if not names:
        axes[0, 0].text(0.5, 0.5, "no intelligent clade in any replicate", ha="center",
                        transform=axes[0, 0].transAxes)  # fmt: skip
    axes[0, 0].set_ylabel("cumulative incidence")
    fig.suptitle(f"{name}: technology per founding clade (Aalen–Johansen; solid: technological, dashed: "
                 "extinct first; | at the bottom: censored clades)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_n_by_tick(
    nt: pd.DataFrame, arms: list[str], name: str, path: Path, plateau: dict[str, float]
) -> Path:
    """Per arm: n(T) = intelligent ÷ technological clades by tick T with its 95% interval (top), and the
    intelligent (solid) and technological (dashed) clades per replicate by T (bottom); a dotted line marks
    where n(T) plateaued."""
    import math

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True)
    for i, arm in enumerate(arms):
        d = nt[nt["arm"] == arm] if len(nt) else nt
        if not len(d):
            continue
        color = COLORS[i % len(COLORS)]
        finite = d[d["n"].apply(math.isfinite)]
        top.step(finite["tick"], finite["n"], where="post", color=color, label=arm)
        hi = d["n_high"].where(d["n_high"].apply(math.isfinite))
        top.fill_between(d["tick"], d["n_low"].where(d["n_low"].apply(math.isfinite)), hi, step="post",
                         color=color, alpha=0.15)  # fmt: skip
        bottom.step(
            d["tick"], d["intelligent"], where="post", color=color, label=f"{arm}: intelligent"
        )
        bottom.step(d["tick"], d["technological"], where="post", color=color, ls="--",
                    label=f"{arm}: technological")  # fmt: skip
        start = plateau.get(arm, math.nan)
        if not math.isnan(start):
            top.axvline(start, color=color, ls=":", lw=0.9)
    top.set_ylabel("n(T) = intelligent ÷ technological clades")
    top.set_title("n by tick T (not drawn while no clade is technological: n = ∞); dotted: start of its plateau",
                  fontsize=9)  # fmt: skip
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.set_ylabel("clades per replicate by T")
    bottom.set_xlabel("tick T")
    bottom.legend(fontsize=7, ncol=2)
    bottom.grid(alpha=0.3)
    fig.suptitle(
        f"{name}: n as a function of time (95% bootstrap intervals over replicates)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
