"""The time-to-event plots of the hard-paths report: survival.png, clade_incidence.png (lifelines, matplotlib).

Drawn from the same per-run and per-clade times as survival.csv
(:mod:`evosim.analysis.survival`).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from evosim.analysis.style import legend_in_headroom, save, say, suptitle  # noqa: E402
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


def clade_incidence_figure(clades: pd.DataFrame, arms: list[str], name: str) -> Figure:
    """Per founding clade (one panel each), per arm: Aalen-Johansen cumulative incidence of technology
    (solid) and of extinction first (dashed) against ticks since the clade became intelligent."""
    ct = clade_times(clades)
    names = [str(c) for c in pd.unique(ct["clade"])] if len(ct) else []
    n = max(len(names), 1)
    fig, axes = plt.subplots(1, n, figsize=(max(4.6 * n + 0.5, 7.0), 4.8), squeeze=False,
                             sharey=True, layout="constrained")  # fmt: skip
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
    if names:
        axes[0, 0].set_ylabel("cumulative incidence")
    else:  # words, not an empty 0-1 frame
        say(axes[0, 0], "no intelligent clade in any replicate:\nno clade to follow to technology")
        axes[0, 0].set_xticks([])
        axes[0, 0].set_yticks([])
    suptitle(fig, f"{name}: technology per founding clade (Aalen–Johansen; solid: technological, "
                  "dashed: extinct first; | at the bottom: censored clades)", fontsize=10)  # fmt: skip
    return fig


def plot_clade_incidence(clades: pd.DataFrame, arms: list[str], name: str, path: Path) -> Path:
    """Write :func:`clade_incidence_figure` to ``path``."""
    fig = clade_incidence_figure(clades, arms, name)
    save(fig, path)
    plt.close(fig)
    return path


def n_by_tick_figure(
    nt: pd.DataFrame, arms: list[str], name: str, plateau: dict[str, float]
) -> Figure:
    """Per arm: n(T) = intelligent ÷ technological clades by tick T with its 95% interval (top), and the
    intelligent (solid) and technological (dashed) clades per replicate by T (bottom); a dotted line marks
    where n(T) plateaued.

    An arm with no technological clade has no n to draw (n = ∞) and no plateau of it to mark; when no
    arm has one, the top panel says so instead of an empty axis.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True, layout="constrained")
    handles: list[Line2D] = []
    drew_n = drew_counts = False
    most = 0.0
    for i, arm in enumerate(arms):
        d = nt[nt["arm"] == arm] if len(nt) else nt
        if not len(d):
            continue
        color = COLORS[i % len(COLORS)]
        finite = d[d["n"].apply(math.isfinite)]
        bottom.step(
            d["tick"], d["intelligent"], where="post", color=color, label=f"{arm}: intelligent"
        )
        bottom.step(d["tick"], d["technological"], where="post", color=color, ls="--",
                    label=f"{arm}: technological")  # fmt: skip
        drew_counts = True
        most = max(most, float(d[["intelligent", "technological"]].max().max()))
        if not len(finite):  # n = ∞ throughout: nothing to draw, nothing settled
            handles.append(Line2D([], [], color=color, alpha=0.4,
                                  label=f"{arm}: no technological clade (n = ∞ throughout)"))  # fmt: skip
            continue
        top.step(finite["tick"], finite["n"], where="post", color=color)
        hi = d["n_high"].where(d["n_high"].apply(math.isfinite))
        top.fill_between(d["tick"], d["n_low"].where(d["n_low"].apply(math.isfinite)), hi, step="post",
                         color=color, alpha=0.15)  # fmt: skip
        handles.append(Line2D([], [], color=color, label=arm))
        drew_n = True
        start = plateau.get(arm, math.nan)
        if not math.isnan(start):
            top.axvline(start, color=color, ls=":", lw=0.9)
    top.set_ylabel("n(T) = intelligent ÷ technological clades")
    if drew_n:
        top.set_title("n by tick T (not drawn while no clade is technological: n = ∞); dotted: "
                      "start of its plateau", fontsize=9)  # fmt: skip
        top.legend(handles=handles, fontsize=8)
    else:
        top.set_title("n by tick T", fontsize=9)
        say(top, "no technological clade in this experiment:\nn(T) = intelligent ÷ technological "
                 "clades is ∞ at every tick, so there is no n to draw")  # fmt: skip
        top.set_yticks([])
    top.grid(alpha=0.3)
    bottom.set_ylabel("clades per replicate by T")
    bottom.set_xlabel("tick T")
    bottom.set_ylim(-0.05 * max(most, 1.0), max(most, 1.0) * 1.08)
    if not most:
        say(bottom, "no intelligent clade in any replicate")
    bottom.grid(alpha=0.3)
    suptitle(fig, f"{name}: n as a function of time (95% bootstrap intervals over replicates)",
             fontsize=10)  # fmt: skip
    if drew_counts:  # above the counts, once the layout is known
        fig.draw_without_rendering()
        legend_in_headroom(bottom, max(most, 1.0), fontsize=7)
    return fig


def plot_n_by_tick(
    nt: pd.DataFrame, arms: list[str], name: str, path: Path, plateau: dict[str, float]
) -> Path:
    """Write :func:`n_by_tick_figure` to ``path``."""
    fig = n_by_tick_figure(nt, arms, name, plateau)
    save(fig, path)
    plt.close(fig)
    return path
