"""PNG plots of the hard-paths report (matplotlib, Agg backend)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from evosim.analysis.style import legend_in_headroom, save, suptitle, wrap  # noqa: E402
from evosim.reports.bottlenecks_plots import plot_bottlenecks  # noqa: E402
from evosim.reports.outcomes_data import Report  # noqa: E402


def _bars(ax, rep: Report, metrics: list[tuple[str, str]], title: str, ylabel: str) -> float:
    """Grouped bars (one group per arm, one bar per metric) with 95% interval error bars.

    '∞'/'n/a' is written where a value is undefined.

    Returns:
        The top of the highest bar or interval (0 when none is finite), for the legend's headroom.
    """
    arms = rep.arms
    width = 0.8 / len(metrics)
    x = np.arange(len(arms))
    finite_top = 0.0
    for j, (metric, label) in enumerate(metrics):
        vals, lo, hi, marks = [], [], [], []
        for a in arms:
            r = rep.result(a, metric)
            v = r["value"]
            ok = math.isfinite(v)
            vals.append(v if ok else 0.0)
            lo.append(max(v - r["ci_low"], 0.0) if ok and math.isfinite(r["ci_low"]) else 0.0)
            hi.append(max(r["ci_high"] - v, 0.0) if ok and math.isfinite(r["ci_high"]) else 0.0)
            marks.append(None if ok else ("∞" if v == math.inf else "n/a"))
            if ok:
                finite_top = max(finite_top, v + hi[-1])
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, vals, width, yerr=[lo, hi], capsize=3, label=label)
        for p, m in zip(pos, marks):
            if m:
                ax.annotate(
                    m, (p, 0), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=9
                )
    ax.set_xticks(x, arms, rotation=20, ha="right")
    ax.set_title(wrap(title, 4.6, 10), fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    if finite_top == 0:
        ax.set_ylim(0, 1)
    return finite_top


def outcomes_figure(rep: Report) -> Figure:
    """Per-arm outcome bars with 95% intervals: clades, n, P(technological), compute and ticks, saving factor.

    A panel with more than one metric has its legend above its bars (the y range is raised to make
    room), so it covers none of them.
    """
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.4), layout="constrained")
    panels = [
        (axes[0, 0], [("intelligent_clades", "intelligent"), ("technological_clades", "technological"),
                      ("lost_clades", "lost (extinct, never tech.)")],
         "clades per replicate", "clades"),
        (axes[0, 1], [("n_clades", "clades"), ("n", "species")],
         "n = intelligent / technological (∞: none technological)", "n"),
        (axes[0, 2], [("p_technological", "P(tech)"), ("stuck_share", "stuck share")],
         "P(a technological species); stuck share", "probability / share"),
        (axes[1, 0], [("flop_to_first_intelligent_rmean", "first intelligent"),
                      ("flop_to_first_technological_rmean", "first technological")],
         "FLOP to the first intelligent / technological species (restricted means)", "FLOP"),
        (axes[1, 1], [("ticks_to_first_technological_rmean", "restricted mean"),
                      ("ticks_to_first_technological", "conditional mean")],
         "ticks to the first technological species", "ticks"),
        (axes[1, 2], [("compute_saving", "saving factor")],
         "compute saving factor (control ÷ arm; > 1: less compute)", "factor"),
    ]  # fmt: skip
    tops = [(ax, metrics, _bars(ax, rep, metrics, title, ylabel))
            for ax, metrics, title, ylabel in panels]  # fmt: skip
    axes[1, 2].axhline(1.0, color="grey", ls="--", lw=0.8)
    suptitle(fig, f"{rep.name}: outcomes per arm (95% bootstrap intervals over replicates)",
             fontsize=11)  # fmt: skip
    fig.draw_without_rendering()  # the layout, for the legends' room
    for ax, metrics, top in tops:
        if len(metrics) > 1:
            legend_in_headroom(ax, top, fontsize=8)
    return fig


def plot_outcomes(rep: Report, path: Path) -> Path:
    """Write :func:`outcomes_figure` to ``path``."""
    fig = outcomes_figure(rep)
    save(fig, path)
    plt.close(fig)
    return path


def trajectories_figure(rep: Report) -> Figure:
    """Mean brain and mean skill of every intelligent species over time, one column per arm."""
    from matplotlib.lines import Line2D

    n = len(rep.arms)
    fig, axes = plt.subplots(
        2, n, figsize=(max(3.6 * n + 1, 6.4), 7), sharex=True, sharey="row", squeeze=False,
        layout="constrained",
    )  # fmt: skip
    tr = rep.trajectories
    det = rep.config.get("detectors", {})
    ladder = rep.config.get("technology", {}).get("ladder", [])
    for j, arm in enumerate(rep.arms):
        sub = tr[tr["arm"] == arm] if len(tr) else tr
        for _, g in sub.groupby(["replicate", "species"]) if len(sub) else []:
            color = "tab:red" if bool(g["technological"].iloc[0]) else "tab:blue"
            axes[0, j].plot(g["tick"], g["mean_brain"], color=color, lw=0.8, alpha=0.7)
            axes[1, j].plot(g["tick"], g["mean_skill"], color=color, lw=0.8, alpha=0.7)
        if "brain_threshold" in det:
            axes[0, j].axhline(det["brain_threshold"], color="grey", ls="--", lw=0.8)
        for m in ladder:
            axes[1, j].axhline(m["threshold"], color="grey", ls=":", lw=0.6)
        axes[0, j].set_title(arm, fontsize=10)
        axes[1, j].set_xlabel("tick")
        if not len(sub):
            for ax in axes[:, j]:
                ax.text(0.5, 0.5, "no intelligent species\nin any replicate", ha="center",
                        va="center", transform=ax.transAxes, fontsize=9, color="0.3")  # fmt: skip
    axes[0, 0].set_ylabel("mean brain")
    axes[1, 0].set_ylabel("mean skill")
    if ladder:  # name the milestones at their thresholds on the right of the last column
        names = axes[1, -1].secondary_yaxis("right")
        names.set_yticks([m["threshold"] for m in ladder], labels=[m["name"] for m in ladder],
                         fontsize=7)  # fmt: skip
    handles = [
        Line2D([], [], color="tab:red", lw=1.2, label="intelligent, became technological"),
        Line2D([], [], color="tab:blue", lw=1.2, label="intelligent, never technological"),
    ]
    if "brain_threshold" in det:
        handles.append(Line2D([], [], color="grey", ls="--", lw=0.8,
                              label=f"intelligence threshold ({det['brain_threshold']:g})"))  # fmt: skip
    if ladder:
        handles.append(Line2D([], [], color="grey", ls=":", lw=0.8, label="milestone thresholds"))
    ncol = len(handles) if fig.get_figwidth() >= 8 else 2
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize=8)
    suptitle(fig, "Intelligent species of every replicate: mean brain and mean skill over time",
             fontsize=10)  # fmt: skip
    return fig


def plot_trajectories(rep: Report, path: Path) -> Path:
    """Write :func:`trajectories_figure` to ``path``."""
    fig = trajectories_figure(rep)
    save(fig, path)
    plt.close(fig)
    return path


def plot_all(rep: Report, out: Path) -> list[Path]:
    """Write outcomes.png, bottlenecks.png, trajectories.png, survival.png, clade_incidence.png, n_by_tick.png."""
    from evosim.reports.survival_plots import (
        plot_clade_incidence,
        plot_n_by_tick,
        plot_survival,
    )

    return [
        plot_outcomes(rep, out / "outcomes.png"),
        plot_bottlenecks(rep, out / "bottlenecks.png"),
        plot_trajectories(rep, out / "trajectories.png"),
        plot_survival(rep.runs, rep.arms, rep.name, out / "survival.png"),
        plot_clade_incidence(
            rep.clades_for_analysis(), rep.arms, rep.name, out / "clade_incidence.png"
        ),
        plot_n_by_tick(rep.n_by_tick, rep.arms, rep.name, out / "n_by_tick.png", rep.n_plateau),
    ]
