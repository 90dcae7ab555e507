"""The time-to-event sections of the hard-paths summary (``summary.md``; docs/experiments.md).

Tables of :func:`evosim.analysis.survival.survival_table` per arm and per clade,
the censored share per arm, and the horizon warning: more than
:data:`CUT_SHARE` of the intelligent clades still alive at the end, neither
technological nor settled (:mod:`evosim.analysis.plateau`), means the horizon
cuts the phenomenon and every count at the horizon is a censored value.
"""

from __future__ import annotations

import math

import pandas as pd

from evosim.analysis.survival import stat

#: share of intelligent clades still climbing at the horizon above which the summary warns
CUT_SHARE = 0.10
FIRST = "first_technological_ticks"
CLADE = "clade_intelligent_to_technological"


def fmt(v: float | None) -> str:
    """Compact number: 3 significant digits, '∞' for infinity, '—' for undefined (every table of the report)."""
    if v is None or math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-2):
        return f"{v:.2e}"
    return f"{v:.3g}"


def _ci(table: pd.DataFrame, analysis: str, arm: str, statistic: str, clade: str = "",
        horizon: float | None = None) -> str:  # fmt: skip
    t = table[(table["analysis"] == analysis) & (table["arm"] == arm) & (table["statistic"] == statistic)
              & (table["clade"].fillna("") == clade)]  # fmt: skip
    if horizon is not None:
        t = t[(t["horizon"].astype(float) - horizon).abs() < 1e-9]
    if not len(t):
        return "—"
    r = t.iloc[0]
    v = float(r["value"])
    if statistic == "median" and math.isinf(v):
        return "not reached"
    f = _ticks if analysis in (FIRST, CLADE) and statistic in ("median", "rmst") else fmt
    if math.isnan(float(r["ci_low"])):
        return f(v)
    return f"{f(v)} [{f(float(r['ci_low']))}, {f(float(r['ci_high']))}]"


def _ticks(v: float) -> str:
    """A tick count: whole, with thousands separators ('∞' for infinity, '—' for undefined)."""
    return fmt(v) if math.isnan(v) or math.isinf(v) else f"{v:,.0f}"


def still_climbing(clades: pd.DataFrame) -> pd.DataFrame:
    """Per arm: intelligent counted clades, and how many are alive at the end, not technological, not settled."""
    c = clades[clades["counted"].astype(bool) & (clades["intelligent_species"] > 0)]
    open_ = c["plateau"].isin(["climbing", "short"]) & ~c["extinct"].astype(bool)
    return pd.DataFrame({"intelligent": c.groupby("arm").size(),
                         "open": open_.groupby(c["arm"]).sum()}).fillna(0).astype(int)  # fmt: skip


def horizon_warning(clades: pd.DataFrame, arms: list[str]) -> list[str]:
    """One warning line per arm whose share of still-climbing intelligent clades exceeds :data:`CUT_SHARE`."""
    sc = still_climbing(clades)
    out = []
    for a in arms:
        if (
            a in sc.index
            and sc.at[a, "intelligent"]
            and sc.at[a, "open"] / sc.at[a, "intelligent"] > CUT_SHARE
        ):
            out.append(
                f"`{a}`: {sc.at[a, 'open']} of {sc.at[a, 'intelligent']} intelligent clades "
                f"({sc.at[a, 'open'] / sc.at[a, 'intelligent']:.0%}) are still alive at the horizon, neither "
                "technological nor settled"
            )
    return out


def section(table: pd.DataFrame, clades: pd.DataFrame, arms: list[str], control: str,
            horizons: list[float], rule_text: str) -> list[str]:  # fmt: skip
    """The "Time to technology" section of the summary."""
    head = ["| | " + " | ".join(f"`{a}`" for a in arms) + " |", "|---|" + "---|" * len(arms)]
    out = [
        "",
        "## Time to technology (survival analysis)",
        "",
        "A replicate without a technological species at its end is *censored* (not yet there), not a "
        "failure. Kaplan–Meier estimates (lifelines) of the ticks to the first technological species, with "
        "95 % intervals; RMST: restricted mean survival time (mean ticks to the event, capped at the "
        "horizon). Log-rank test against the control (lifelines, unstratified) and the Cox hazard ratio of "
        "the arm (> 1: sooner), stratified by replicate seed (arms share their seeds). survival.csv has "
        "every number; survival.png and clade_incidence.png draw them.",
        "",
        *head,
    ]

    def row(label: str, analysis: str, statistic: str, horizon: float | None = None, clade: str = "",
            skip_control: bool = False) -> str:  # fmt: skip
        cells = ["" if skip_control and a == control else _ci(table, analysis, a, statistic, clade, horizon)
                 for a in arms]  # fmt: skip
        return f"| {label} | " + " | ".join(cells) + " |"

    out.append(row("replicates", FIRST, "n"))
    out.append(row("with a technological species by the end", FIRST, "events"))
    cens = [stat(table, FIRST, a, "censored_share") for a in arms]
    out.append("| **censored share (replicates)** | " + " | ".join(
        "—" if math.isnan(c) else f"{c:.0%}" for c in cens) + " |")  # fmt: skip
    out.append(row("median ticks to the first technological species", FIRST, "median"))
    for h in horizons:
        out.append(row(f"RMST, ticks (horizon {h:g})", FIRST, "rmst", h))
        out.append(
            row(f"share with a technological species by tick {h:g}", FIRST, "share_with_event", h)
        )
    out.append(
        row("median FLOP to the first technological species", "first_technological_flop", "median")
    )
    out.append(row("log-rank p vs control (ticks)", FIRST, "logrank_p", skip_control=True))
    out.append(
        row("Cox hazard ratio vs control, stratified by seed", FIRST, "cox_hr", skip_control=True)
    )
    out.append(row("Cox p", FIRST, "cox_p", skip_control=True))
    names = [str(c) for c in pd.unique(table.loc[table["analysis"] == CLADE, "clade"])]
    if names:
        out += [
            "",
            "### From intelligence to technology, per founding clade",
            "",
            "Time from a clade's first intelligent species to its first technological species. Extinction "
            "competes, so the cumulative incidence of technology is Aalen–Johansen (lifelines); a clade alive "
            "at the end without technology is censored. Counts: intelligent clades / technological / extinct "
            "first / censored. Median: ticks at which the incidence reaches 0.5. Cox: cause-specific hazard "
            "of technology against the control, stratified by seed.",
            "",
            *head,
        ]
        for name in names:
            cells = []
            for a in arms:
                n = stat(table, CLADE, a, "n", name)
                kinds = ("n", "events", "extinct", "censored")
                cells.append("—" if math.isnan(n) else " / ".join(str(int(stat(table, CLADE, a, s, name)))
                                                                   for s in kinds))  # fmt: skip
            out.append(f"| {name}: counts | " + " | ".join(cells) + " |")
            for h in horizons:
                out.append(row(f"{name}: incidence by {h:g} ticks", CLADE, "incidence", h, name))
            out.append(row(f"{name}: median ticks", CLADE, "median", None, name))
            out.append(
                row(f"{name}: Cox hazard ratio", CLADE, "cox_hr", None, name, skip_control=True)
            )
    sc = still_climbing(clades)
    out += [
        "",
        "### Censoring at the horizon",
        "",
        f"Plateau detector: {rule_text}.",
        "",
        *head,
        "| intelligent clades still climbing at the horizon (alive, not technological, not settled) | "
        + " | ".join(
            f"{sc.at[a, 'open']} of {sc.at[a, 'intelligent']}" if a in sc.index else "—"
            for a in arms
        )
        + " |",
    ]
    warn = horizon_warning(clades, arms)
    if warn:
        out += ["", "**Warning: the horizon cuts the climb.** More than "
                f"{CUT_SHARE:.0%} of the intelligent clades are still climbing at the horizon, so counts and "
                "n at the horizon are censored values, not outcomes; extend the experiment (a larger `ticks`, "
                "`evosim experiment`) until the curves plateau.", ""] + [f"- {w}" for w in warn]  # fmt: skip
    return out


def whether_section(table: pd.DataFrame, control: str) -> list[str]:
    """The "Whether or when" section: per intervention and clade, the verdict and its tests."""
    if not len(table):
        return []
    out = [
        "",
        "### Whether or when, per intervention and founding clade",
        "",
        f"Among the replicates in which the clade became intelligent: the share technological by the "
        f"end, arm minus `{control}`, with Newcombe's 95 % interval (*whether*), and the log-rank test and "
        "the Cox hazard ratio of the time from intelligence to technology, stratified by seed "
        '(*when*; > 1 sooner). "Whether" is read at the horizon: it is the answer only where the '
        "horizon is at the plateau (see the censoring section). whether_when.csv has every number.",
        "",
        "| arm | clade | technological / intelligent | control | difference [95 %] | hazard ratio [95 %] "
        "| log-rank p | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        out.append(
            f"| `{r['arm']}` | {r['clade']} | {r['technological']} / {r['intelligent']} | "
            f"{r['control_technological']} / {r['control_intelligent']} | {r['diff']:+.2f} "
            f"[{r['diff_low']:+.2f}, {r['diff_high']:+.2f}] | {fmt(r['hr'])} [{fmt(r['hr_low'])}, "
            f"{fmt(r['hr_high'])}] | {fmt(r['logrank_p'])} | **{r['verdict']}** |"
        )
    return out
