"""The Markdown summary of the hard-paths report (``summary.md``; docs/experiments.md)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from evosim.analysis.survival import stat
from evosim.reports import bottlenecks
from evosim.reports.arm_metrics import CONDITIONAL, METRICS
from evosim.reports.files import arm_table_head, intro
from evosim.reports.outcomes_data import Report
from evosim.reports.survival import fmt, horizon_warning, section, whether_section

#: the metrics the report leads with: the seed's quantity
HEADLINE = (
    "n_clades",
    "intelligent_clades",
    "technological_clades",
    "lost_clades",
    "n",
    "flop_to_first_intelligent_rmean",
    "flop_to_first_technological_rmean",
    "flop_to_first_technological",
    "ticks_to_first_technological_rmean",
    "ticks_to_first_technological",
    "compute_saving",
    "neural_to_first_intelligent_rmean",
    "neural_to_first_technological_rmean",
    "tech_vs_intel_flop",
    "tech_vs_intel_neural",
)
#: the k-sensitivity row of the headline table: the neural ratio for k = 1, 2, 3
K_ROW = ("tech_vs_intel_neural_k1", "tech_vs_intel_neural_k2", "tech_vs_intel_neural_k3")
LABELS = {m[0]: m[1] for m in METRICS}


#: a clade that the plateau detector finds unsettled but a gate holds, in :func:`censoring_view`
HELD = "held by a gate"


def censoring_view(clades: pd.DataFrame) -> pd.DataFrame:
    """``clades`` as the horizon warning reads them: a clade held by a gate (``held_by``,
    :func:`evosim.reports.outcomes.held_by_gate`) is not still climbing, whatever the plateau
    detector says of its skill (the bottleneck rule: gates first). Its ``plateau`` is
    :data:`HELD` here; clades.csv keeps the detector's verdict."""
    if "held_by" not in clades or not len(clades):
        return clades
    held = clades["held_by"].fillna("").astype(str) != ""
    return clades.assign(
        plateau=clades["plateau"].mask(held & clades["plateau"].isin(["climbing", "short"]), HELD)
    )


def ticks(v: float) -> str:
    """A tick count (or a difference of them): whole, with thousands separators ('∞', '—')."""
    return fmt(v) if math.isnan(v) or math.isinf(v) else f"{v:,.0f}"


def _cell(value: float, lo: float, hi: float, f: Callable[[float], str] = fmt) -> str:
    return f(value) if math.isnan(lo) else f"{f(value)} [{f(lo)}, {f(hi)}]"


def markdown(rep: Report) -> str:
    """The Markdown summary: the seed's quantity, all outcomes, differences, clades, bottlenecks, notes."""
    out = intro(f"Hard-paths report: {rep.name}", _about(rep))
    out += _censoring(rep)

    def cell(arm: str, metric: str, diff: bool = False) -> str:
        r = rep.result(arm, metric)
        f = ticks if metric.startswith("ticks_") else fmt
        if diff:
            return _cell(r["diff"], r["diff_low"], r["diff_high"], f)
        c = _cell(r["value"], r["ci_low"], r["ci_high"], f)
        return c + (f" (in {r['replicates_defined']})" if metric in CONDITIONAL else "")

    n_reps = rep.runs.groupby("arm").size()
    finished = (
        "| finished replicates | " + " | ".join(str(int(n_reps.get(a, 0))) for a in rep.arms) + " |"
    )
    out += [
        "## The seed's quantity",
        "",
        "n: intelligent per technological clade (a clade is a founding lineage whose peak population "
        "reached the clade size) and per species. Restricted means count a replicate that never got there "
        "at the horizon: its ticks, and its total compute at its last tick; conditional means are over the "
        "replicates that got there (in k). Compute saving factor: the control's restricted-mean FLOP to the "
        "first technological species ÷ the arm's (> 1: the arm got there with less compute), with a paired "
        "bootstrap interval. Neural FLOP: compute.neural_flop_per_agent_tick · brain^k summed over "
        'agent-ticks (docs/model.md §7.15, "Neural compute"); the ratios of the compute to the first '
        "technological over the first intelligent species are means over the replicates with both.",
        "",
        *arm_table_head(rep.arms),
        finished,
    ]
    out += [f"| {LABELS[m]} | " + " | ".join(cell(a, m) for a in rep.arms) + " |" for m in HEADLINE]
    out.append(
        "| same ratio, neural FLOP with k = 1 / 2 / 3 | "
        + " | ".join(" / ".join(fmt(rep.result(a, m)["value"]) for m in K_ROW) for a in rep.arms)
        + " |"
    )
    out += ["", "## Outcomes per arm", "", *arm_table_head(rep.arms), finished]
    out += [f"| {m[1]} | " + " | ".join(cell(a, m[0]) for a in rep.arms) + " |" for m in METRICS]
    others = [a for a in rep.arms if a != rep.control]
    if others:
        out += [
            "",
            f"## Difference from `{rep.control}` (arm − control, paired by replicate)",
            "",
            *arm_table_head(others),
        ]
        out += [
            f"| {m[1]} | " + " | ".join(cell(a, m[0], diff=True) for a in others) + " |"
            for m in METRICS
            if m[2] != "saving"
        ]
    out += section(
        rep.survival,
        censoring_view(rep.clades),
        rep.arms,
        rep.control,
        rep.horizons,
        rep.th.plateau.describe(),
    )
    out += whether_section(rep.whether, rep.control)
    out += _clades(rep) + bottlenecks.section(rep)
    if rep.notes:
        out += ["", "## Notes", ""] + [f"- {x}" for x in rep.notes]
    return "\n".join(out) + "\n"


def _about(rep: Report) -> str:
    """What the report analysed and how its intervals were made."""
    return (
        f"{len(rep.arms)} arm(s), {len(rep.runs)} finished replicate(s), up to "
        f"{ticks(rep.runs['ticks_run'].max())} ticks; "
        f"control arm: `{rep.control}`. Values are over replicates with 95% bootstrap percentile intervals "
        f"({rep.n_boot} resamples, seed {rep.seed}); differences are paired by replicate (arms share replicate "
        "seeds). n is inf when no species became technological, and — when none became intelligent either."
    )


def _n_lead(rep: Report) -> list[str]:
    """n at the plateau of n(T), where there is one, beside n at the horizon, per arm."""
    nt = rep.n_by_tick
    if not len(nt):
        return []
    cells = []
    for a in rep.arms:
        last = nt[nt["arm"] == a]
        if not len(last):
            continue
        r = last.iloc[-1]
        at_h = f"{fmt(r['n'])} [{fmt(r['n_low'])}, {fmt(r['n_high'])}]"
        start = rep.n_plateau.get(a, math.nan)
        climbing = horizon_warning(censoring_view(rep.clades), [a])
        if math.isnan(start) or climbing:
            why = (
                "over 10 % of its intelligent clades still climbing"
                if climbing
                else "the counts still move"
            )
            cells.append(f"`{a}`: no plateau within the horizon ({why}); n at the horizon {at_h} (a censored "
                         "value)")  # fmt: skip
        else:
            cells.append(f"`{a}`: **n at the plateau {fmt(r['n'])}** (settled from tick {ticks(start)}); "
                         f"n at the horizon {at_h}")  # fmt: skip
    return [
        "**n = intelligent ÷ technological clades** (n(T) in results.csv and n_by_tick.png; plateau: every "
        "founding clade's share of replicates intelligent, and technological, by T moves less than 0.05, and "
        "the arm's intelligent and technological clades by T by at most 5 %, over at least the last quarter "
        "of the horizon, and at most 10 % of the intelligent clades are still climbing at the horizon): "
        + "; ".join(cells)
        + ".",
        "",
    ]


def _censoring(rep: Report) -> list[str]:
    """The censored share per arm and, when the horizon cuts the climb, the warning (report_survival)."""
    if not len(rep.survival):
        return []
    cens = []
    for a in rep.arms:
        c = stat(rep.survival, "first_technological_ticks", a, "censored_share")
        cens.append(f"`{a}` {'—' if math.isnan(c) else f'{c:.0%}'}")
    out = _n_lead(rep)
    out += ["**Censored share** (replicates without a technological species at their end: not yet there, "
           "not failed; read the survival section): " + ", ".join(cens) + ".", ""]  # fmt: skip
    warn = horizon_warning(censoring_view(rep.clades), rep.arms)
    if warn:
        out += ["**Warning: the horizon cuts the climb** (more than 10 % of the intelligent clades are still "
                "alive at the horizon, neither technological nor settled, nor held by a gate): "
                + "; ".join(warn) + ". Counts, P(technological) and n at the horizon are censored values, "
                "not outcomes.", ""]  # fmt: skip
    held = _held(rep)
    if held:
        out += ["**Held by a gate, not by the horizon**: " + "; ".join(held) + ". They are alive at the "
                "horizon and the plateau detector finds them unsettled, but by the bottleneck rule (gates "
                "first) they are not *still climbing*: every intelligent species of theirs alive at the end "
                "fails a gate of the ladder, which stops it short of the last rung; a longer run frees them "
                "only if evolution carries their genes past it. The horizon warning and the clades still "
                "climbing in the censoring section leave them out.", ""]  # fmt: skip
    return out


def _held(rep: Report) -> list[str]:
    """Per arm: the intelligent clades alive at the horizon, neither technological nor settled, that a
    gate holds (:func:`censoring_view`), by gate."""
    cl = rep.clades
    if "held_by" not in cl or not len(cl):
        return []
    view = censoring_view(cl)
    mine = cl[cl["counted"].astype(bool) & (cl["intelligent_species"] > 0)]
    held = mine[(view.loc[mine.index, "plateau"] == HELD) & ~mine["extinct"].astype(bool)]
    out = []
    for a in rep.arms:
        h, n = held[held["arm"] == a], int((mine["arm"] == a).sum())
        if len(h):
            gates = ", ".join(f"{g} ({k})" for g, k in h["held_by"].value_counts().items())
            out.append(f"`{a}`: {len(h)} of {n} intelligent clades, held by {gates}")
    return out


def _clades(rep: Report) -> list[str]:
    """Per founding clade and arm: in how many replicates it counted, became intelligent, technological, was lost."""
    cl = rep.clades
    if not len(cl):
        return []
    counted = cl[cl["counted"].astype(bool)]
    out = [
        "",
        "## Clades",
        "",
        "Per founding lineage, over the replicates: counted (peak population at least the clade size) / "
        "intelligent / technological / lost (intelligent, extinct, never technological).",
        "",
        *arm_table_head(rep.arms),
    ]
    for name in pd.unique(cl["clade"]):
        cells = []
        for a in rep.arms:
            c = counted[(counted["arm"] == a) & (counted["clade"] == name)]
            cells.append(
                f"{len(c)} / {int((c['intelligent_species'] > 0).sum())} / "
                f"{int((c['technological_species'] > 0).sum())} / {int(c['lost'].astype(bool).sum())}"
            )
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out
