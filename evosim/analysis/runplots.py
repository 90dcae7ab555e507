"""The PNGs of ``evosim plot RUN``: population, genes, brain and skill, milestones, phylogeny.

Each ``*_figure`` function returns a :class:`matplotlib.figure.Figure` (for a
notebook); :func:`plot_run` writes them all into ``RUN/plots/``. Every plot
names at most ``top`` species per founding lineage and pools the rest
(:mod:`evosim.analysis.groups`); legends say which is which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from evosim.analysis import groups as G
from evosim.analysis.style import NO_SAMPLES, NO_SPECIES, founder_color, line_style, save, say
from evosim.analysis.treeplot import phylogeny_figure
from evosim.defaults import GENES
from evosim.io.logs import Run


@dataclass
class RunView:
    """What the plots of one run share: the run, the groups shown and the pooled time series."""

    run: Run
    top: int = G.DEFAULT_TOP
    groups: list[G.Group] = field(init=False)
    pooled: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        species = self.run.species if len(self.run.species) else provisional_species(self.run)
        self.groups = G.select(species, self.top) if len(species) else []
        self.pooled = (
            G.grouped(self.run.timeseries, species, self.groups)
            if self.groups and len(self.run.timeseries)
            else pd.DataFrame()
        )

    @property
    def title(self) -> str:
        """Run name for figure titles: world, seed, folder."""
        cfg = self.run.config
        return (
            f"{cfg.get('name', '?')} seed {cfg.get('sim', {}).get('seed', '?')} "
            f"({self.run.folder.name})"
        )

    @property
    def which(self) -> str:
        """How species were chosen, for titles."""
        return (
            f"named: up to {self.top} species per founding lineage (technological, then "
            "intelligent, then largest peak population); the rest of each lineage pooled"
        )

    @property
    def empty(self) -> str:
        """Why a panel of this run has nothing to draw."""
        return NO_SPECIES if not self.groups else NO_SAMPLES

    def table(self, column: str) -> pd.DataFrame:
        """Tick x group-key table of ``column``."""
        return G.wide(self.pooled, column)

    def lines(self, ax, column: str, groups: list[G.Group] | None = None) -> bool:
        """Draw ``column`` of each group; False when there was nothing to draw."""
        if self.pooled.empty or column not in self.pooled:
            return False
        t = self.table(column)
        drew = False
        for g in self.groups if groups is None else groups:
            if g.key in t and t[g.key].notna().any():
                ax.plot(t.index, t[g.key], label=g.label, **line_style(g))
                drew = True
        return drew

    def legend_handles(self) -> list[Line2D]:
        """One legend entry per group."""
        return [Line2D([], [], label=g.label, **line_style(g)) for g in self.groups]


def provisional_species(run: Run) -> pd.DataFrame:
    """What the plots need of species.csv, from timeseries.csv, for a run stopped before writing it.

    A species formed during a run is named ``<founder>.<id>``, so its founding
    lineage is in its name; its peak population is its largest sample. Detection
    ticks are unknown (NA). Empty when the run has no samples either.
    """
    ts = run.timeseries
    if not len(ts):
        return run.species
    last = ts.groupby("species", sort=True).agg(name=("name", "last"), peak=("population", "max"))
    ids = {str(n): int(i) for i, n in zip(last.index, last["name"]) if "." not in str(n)}
    root = [ids.get(str(n).split(".", 1)[0], int(i)) for i, n in zip(last.index, last["name"])]
    return pd.DataFrame({
        "id": last.index.astype("int64"), "name": last["name"].astype("string"), "root": root,
        "peak_population": last["peak"].astype("int64"),
        "intelligent_at": pd.array([pd.NA] * len(last), dtype="Int64"),
        "technological_at": pd.array([pd.NA] * len(last), dtype="Int64"),
    })  # fmt: skip


def not_drawn(run: Run) -> list[str]:
    """What :func:`plot_run` cannot draw from this run's logs, and why (one line each)."""
    out = []
    if not len(run.timeseries):
        out.append("population.png, genes.png, brain_skill.png, milestones.png: no samples in "
                   "timeseries.csv, so nothing over time")  # fmt: skip
    if not len(run.species):
        out.append(
            "phylogeny.png: no species.csv (it is written when the run ends; "
            f"`evosim run --resume {run.folder}` completes an interrupted run)"
        )
        if len(run.timeseries):
            out.append(
                "the other plots are drawn from timeseries.csv alone: species grouped by the "
                "founder in their names, without detection marks"
            )
    return out


def _finish(ax, xlabel: bool = True) -> None:
    if xlabel:
        ax.set_xlabel("tick")
    ax.grid(alpha=0.25)


def population_figure(view: RunView) -> Figure:
    """Stacked population of each founding lineage, then each lineage's named species (log scale)."""
    founders = [g for g in view.groups if g.rank in (0, -1)]
    fnames = list(dict.fromkeys(g.founder for g in founders))
    ncol = 1 if len(fnames) <= 1 else 2
    nrow = 1 + math.ceil(max(len(fnames), 1) / ncol)
    fig = Figure(figsize=(12, 3.2 + 2.9 * (nrow - 1)), layout="constrained")
    gs = fig.add_gridspec(nrow, ncol)
    top = fig.add_subplot(gs[0, :])
    top.set_title("Members of each founding lineage (stacked; all its species)", fontsize=10)
    top.set_ylabel("members")
    if view.pooled.empty:
        say(top, view.empty)
    else:
        pop = view.table("population").fillna(0)
        fnd = {g.key: g.founder for g in view.groups}
        by = pop.T.groupby(pd.Series(fnd)).sum().T.reindex(columns=fnames, fill_value=0)
        count = pd.Series([g.size for g in view.groups], [g.founder for g in view.groups])
        count = count.groupby(level=0).sum()
        top.stackplot(
            by.index,
            by.T.to_numpy(),
            labels=[f"{f} lineage ({count[f]} species)" for f in fnames],
            colors=[founder_color(i) for i in range(len(fnames))],
            alpha=0.85,
        )
        top.legend(fontsize=8, loc="upper left")
    _finish(top)
    for i, fname in enumerate(fnames):
        ax = fig.add_subplot(gs[1 + i // ncol, i % ncol], sharex=top)
        mine = [g for g in view.groups if g.founder == fname]
        n = sum(g.size for g in mine)
        ax.set_title(f"{fname} lineage: {n} species", fontsize=10)
        ax.set_ylabel("members (log scale)")
        if view.lines(ax, "population", mine):
            ax.set_yscale("log")
            ax.legend(fontsize=7, loc="best")
        else:
            say(ax, view.empty)
        _finish(ax)
    fig.suptitle(f"Population per species — {view.title}\n{view.which}", fontsize=10)
    return fig


def genes_figure(view: RunView) -> Figure:
    """Mean of each of the seven genes over time, per named species and pooled rest."""
    fig = Figure(figsize=(14, 7), layout="constrained")
    axes = fig.subplots(2, 4, sharex=True).ravel()
    for ax, gene in zip(axes, GENES):
        ax.set_title(gene, fontsize=10)
        ax.set_ylabel(f"mean {gene} gene")
        if not view.lines(ax, f"mean_{gene}"):
            say(ax, view.empty)
        _finish(ax, xlabel=ax in axes[4:])
    axes[-1].axis("off")
    if view.groups:
        axes[-1].legend(handles=view.legend_handles(), loc="center", fontsize=8, frameon=False)
    fig.suptitle(
        f"Mean genes per species — {view.title}\n{view.which} (population-weighted mean)",
        fontsize=10,
    )
    return fig


def _detections(view: RunView, kind: str) -> list[tuple[G.Group, int]]:
    """(group, tick) of the named species detected ``kind`` (intelligent / technological)."""
    at = view.run.species.set_index("name")[f"{kind}_at"]
    return [
        (g, int(at[g.key]))
        for g in view.groups
        if not g.pooled and g.key in at.index and pd.notna(at[g.key])
    ]


def _mark(ax, view: RunView, column: str, kind: str, marker: str, size: float) -> bool:
    """Mark each named species' detection tick on its ``column`` line; True if any."""
    hits = _detections(view, kind)
    if not hits or view.pooled.empty:
        return False
    t = view.table(column)
    for g, tick in hits:
        s = t[g.key].dropna() if g.key in t else pd.Series(dtype=float)
        after = s[s.index >= tick]
        if len(after):
            ax.scatter([tick], [after.iloc[0]], marker=marker, s=size, zorder=5,
                       color=line_style(g)["color"], edgecolors="black", linewidths=0.8)  # fmt: skip
    return True


def brain_skill_figure(view: RunView) -> Figure:
    """Mean brain against the intelligence threshold; mean skill against the milestone thresholds."""
    cfg = view.run.config
    det = cfg.get("detectors", {})
    ladder = cfg.get("technology", {}).get("ladder", [])
    fig = Figure(figsize=(13, 8), layout="constrained")
    brain, skill = fig.subplots(2, 1, sharex=True)
    extra: list[Line2D] = []
    if not view.lines(brain, "mean_brain"):
        say(brain, view.empty)
    if "brain_threshold" in det:
        brain.axhline(det["brain_threshold"], color="black", ls="--", lw=1)
        extra.append(Line2D([], [], color="black", ls="--", lw=1,
                            label=f"intelligence threshold {det['brain_threshold']:g} "
                                  "(detectors.brain_threshold)"))  # fmt: skip
    if _mark(brain, view, "mean_brain", "intelligent", "^", 70):
        extra.append(Line2D([], [], marker="^", ls="", color="white", markeredgecolor="black",
                            markersize=9, label="detected intelligent"))  # fmt: skip
    brain.set_ylabel("mean brain gene")
    brain.set_title(
        "Brain: a species is intelligent once its mean brain stays above the threshold for "
        f"{det.get('intelligence_window', '?')} ticks with at least "
        f"{det.get('min_population', '?')} members",
        fontsize=10,
    )
    _finish(brain, xlabel=False)
    if not view.lines(skill, "mean_skill"):
        say(skill, view.empty)
    for m in ladder:
        skill.axhline(m["threshold"], color="0.45", ls=":", lw=1)
    if ladder:  # the milestones' names on a right-hand axis, at their thresholds
        extra.append(Line2D([], [], color="0.45", ls=":", lw=1, label="milestone thresholds"))
        names = skill.secondary_yaxis("right")
        names.set_yticks([m["threshold"] for m in ladder],
                         labels=[f"{m['name']} ({m['threshold']:g})" for m in ladder], fontsize=8)  # fmt: skip
    if _mark(skill, view, "mean_skill", "technological", "*", 160):
        extra.append(Line2D([], [], marker="*", ls="", color="white", markeredgecolor="black",
                            markersize=12, label="detected technological"))  # fmt: skip
    # from 0 to above the highest of the skill lines, the markers and the thresholds (a species
    # goes on learning past the last milestone)
    top = max([m["threshold"] * 1.08 for m in ladder] + [skill.get_ylim()[1]])
    skill.set_ylim(0, top)
    skill.set_ylabel("mean skill")
    skill.set_title(
        "Skill: a member holds a milestone once its skill reaches the threshold; technological: "
        f"{det.get('tech_share', '?')} of adults hold the last one for "
        f"{det.get('tech_window', '?')} ticks",
        fontsize=10,
    )
    _finish(skill)
    if view.groups or extra:
        fig.legend(handles=view.legend_handles() + extra, loc="outside right upper", fontsize=8,
                   title=f"up to {view.top} species named\nper founding lineage;\nthe rest pooled",
                   title_fontsize=8)  # fmt: skip
    fig.suptitle(f"Brain and skill against the thresholds — {view.title}", fontsize=10)
    return fig


def milestones_figure(view: RunView) -> Figure:
    """Share of members holding each milestone, one panel per rung of the ladder."""
    cfg = view.run.config
    det = cfg.get("detectors", {})
    ladder = [m["name"] for m in cfg.get("technology", {}).get("ladder", [])]
    if not ladder:
        ladder = [c.removeprefix("share_") for c in view.run.timeseries if c.startswith("share_")]
    ncol = 3
    nrow = max(1, math.ceil((len(ladder) + 1) / ncol))
    fig = Figure(figsize=(14, 3.4 * nrow + 0.8), layout="constrained")
    axes = fig.subplots(nrow, ncol, sharex=True, squeeze=False).ravel()
    for i, (ax, m) in enumerate(zip(axes, ladder)):
        ax.set_title(f"{i + 1}. {m}", fontsize=10)
        ax.set_ylabel("share of members (all ages)")
        ax.set_ylim(-0.02, 1.02)
        col = f"share_{m}"
        held = not view.pooled.empty and col in view.pooled and view.pooled[col].max() > 0
        if view.pooled.empty:
            say(ax, view.empty)
        elif not held:
            say(ax, f"no member of any species\nheld {m}")
        else:
            view.lines(ax, col)
        if i == len(ladder) - 1 and "tech_share" in det:
            ax.axhline(det["tech_share"], color="black", ls="--", lw=1)
            ax.annotate(f"technology: {det['tech_share']:g} of adults (detectors.tech_share)",
                        (0.01, det["tech_share"]), xycoords=("axes fraction", "data"),
                        xytext=(0, 3), textcoords="offset points", fontsize=8)  # fmt: skip
        _finish(ax, xlabel=i + ncol >= len(ladder))
    for ax in axes[len(ladder) :]:
        ax.axis("off")
    if not ladder:
        say(axes[0], "the technology ladder is empty")
    elif view.groups and len(axes) > len(ladder):
        axes[-1].legend(handles=view.legend_handles(), loc="center", fontsize=8, frameon=False)
    fig.suptitle(f"Share of members holding each milestone — {view.title}\n{view.which}",
                 fontsize=10)  # fmt: skip
    return fig


#: File name, figure function and description of each PNG of ``evosim plot``.
PLOTS = {
    "population.png": (population_figure, "members per species and per founding lineage"),
    "genes.png": (genes_figure, "mean of each of the seven genes per species"),
    "brain_skill.png": (brain_skill_figure, "brain and skill against the detector and milestone thresholds"),
    "milestones.png": (milestones_figure, "share of members holding each milestone"),
    "phylogeny.png": (lambda v: phylogeny_figure(v.run, v.top), "the species phylogeny against time"),
}  # fmt: skip


def plot_run(run: Run, out: Path | None = None, top: int = G.DEFAULT_TOP) -> list[tuple[Path, str]]:
    """Write every plot of :data:`PLOTS` into ``out`` (default ``RUN/plots``), replacing older ones.

    Returns:
        (path, description) of each file written.
    """
    out = Path(run.folder) / "plots" if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    view = RunView(run, top)
    written = []
    for name, (make, what) in PLOTS.items():
        written.append((save(make(view), out / name), what))
    return written
