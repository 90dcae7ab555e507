"""Which traits predict technology, in the report of an experiment on drawn body plans.

When the founders' body plans are drawn per replicate from a prior (a world
with ``founders.prior`` or gene distributions, ``worlds/tree_of_life.yaml``:
a founder of the same name has other genes in another replicate,
:func:`evosim.analysis.traits.founders_drawn`), ``evosim report`` adds
:func:`evosim.analysis.traits.analyse_experiment`'s answer:

- ``trait_hazards.csv``: per covariate (each founder gene's drawn mean and upper
  bound, each gene's mean in the clade when it became intelligent), the Cox
  hazard ratio of technology per 0.1 of it with its 95 % interval, in the
  control arm and over every arm (stratified by arm); a covariate that is not
  estimable (too few events, complete separation, ...: the rule in
  :mod:`evosim.analysis.traits`) has no numbers but its reason (``note``), and
  the section says so instead of printing a ratio;
- ``trait_n.csv``: per arm, n = intelligent / technological clades with its
  bootstrap interval over replicates;
- ``trait_blocked.csv``: per arm, the intelligent clades a handless or an
  aquatic founder would have blocked, and how many became technological;
- ``trait_lineages.csv``: the intelligent clades themselves (the data of the fits);
- ``trait_hazards.png``: the control arm's hazard ratios (a forest plot);
- ``traits.md``: those tables in words (also printed by ``evosim report``).

An experiment whose founders are the same in every replicate (earthlike) has
nothing to regress on: no section, no files, however different its founders
are from one another (a primate and a cetacean are two body plans, not a
sample of them).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evosim.analysis import traits as tr
from evosim.config.load import load_world
from evosim.io.files import atomic_write_text
from evosim.reports.survival import fmt


def _hazard_rows(hazards: pd.DataFrame) -> list[str]:
    """Table rows: the ratio with its interval and p, or *not estimable* and why."""
    out = []
    for _, r in hazards.iterrows():
        if pd.isna(r["hazard_ratio"]):
            note = r.get("note")
            why = note if isinstance(note, str) else ""
            cells = f"not estimable{f': {why}' if why else ''} | —"
        else:
            cells = (f"{fmt(r['hazard_ratio'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}] | "
                     f"{fmt(r['p'])}")  # fmt: skip
        out.append(f"| {r['covariate']} | {cells} | {r['lineages']} | {r['events']} |")
    return out


def _hazard_table(hazards: pd.DataFrame) -> list[str]:
    """The hazard table, or one sentence when no covariate is estimable."""
    if not len(hazards) or hazards["hazard_ratio"].isna().all():
        events = int(hazards["events"].max()) if len(hazards) else 0
        reasons = sorted({str(x) for x in hazards.get("note", pd.Series(dtype=str)).dropna() if x})
        return [f"**No hazard ratio is estimable** ({events} event(s) at most; "
                f"{'; '.join(reasons) or 'no lineage'}): these lineages say nothing yet about "
                "which traits predict technology. trait_hazards.csv lists every covariate with "
                "its reason (`note`)."]  # fmt: skip
    return ["| covariate | hazard ratio per 0.1 [95 %] | p | lineages | events |",
            "|---|---|---|---|---|", *_hazard_rows(hazards)]  # fmt: skip


def markdown(res: dict[str, pd.DataFrame], control: str) -> str:
    """The section of the report: n per arm, the control's hazard ratios, the blocked lineages."""
    lines = [
        "## Which traits predict technology (drawn body plans)",
        "",
        f"{len(res['lineages'])} intelligent clade(s) over every arm. Hazard ratio of technology per "
        "0.1 of each trait, one Cox model per trait (lifelines; time from a clade's first "
        "intelligence to its first technology, extinction and the run's end censoring); "
        "`founder_` is the founding species' drawn mean (`_max`: its upper bound, the body "
        "plan), `evolved_` the clade's mean when it became intelligent. *Not estimable*: "
        f"fewer than {tr.MIN_EVENTS} events (events per variable), complete separation or no "
        "convergence (lifelines' diagnostics), or, pooled over arms, fewer than "
        f"{tr.MIN_CLUSTERS} replicates for the clustered variance (evosim.analysis.traits).",
        "",
        "| arm | replicates | intelligent | technological | n [95 %] |",
        "|---|---|---|---|---|",
    ]
    for _, r in res["n"].iterrows():
        lines.append(f"| `{r['arm']}` | {r['replicates']} | {r['intelligent']} | "
                     f"{r['technological']} | {fmt(r['n'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}] |")  # fmt: skip
    lines += ["", f"Control arm (`{control}`):", "", *_hazard_table(res["hazards"])]
    pooled = res.get("hazards_all_arms")
    if pooled is not None and len(pooled) and res["n"]["arm"].nunique() > 1:
        lines += ["", "All arms pooled (arm as strata; the variance clustered by replicate, "
                  "since a replicate's arms share one tree of life; the interventions change "
                  "what a trait can do, so read this beside the control's):", "",
                  *_hazard_table(pooled)]  # fmt: skip
    if len(res["blocked"]):
        lines += ["", "Intelligent clades a founder would have blocked (handless: dexterity bound "
                  "below the highest gate; aquatic: mean habitat below 0.5), per arm; the "
                  "difference of the share technological from the control's, with Newcombe's 95 % "
                  "interval:", "",
                  "| group | arm | intelligent | technological | share | arm − control [95 %] |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for _, r in res["blocked"].iterrows():
            d = "" if pd.isna(r["diff"]) else (f"{r['diff']:+.2f} [{r['diff_low']:+.2f}, "
                                               f"{r['diff_high']:+.2f}]")  # fmt: skip
            lines.append(f"| {r['group']} | `{r['arm']}` | {r['intelligent']} | "
                         f"{r['technological']} | {fmt(r['share'])} | {d} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_traits(
    folder: str | Path,
    out: str | Path,
    control: str,
    plots: bool = True,
    lineage_table: pd.DataFrame | None = None,
) -> tuple[list[Path], str]:
    """Write the files of the module docstring into ``out`` when the founders are drawn.

    A founder is ``handless`` when its dexterity bound is below the highest ``min_dexterity``
    of the ladder (read from a run's ``config.yaml``).

    Returns:
        The files written and the Markdown section ("" and no file when the founders are the
        same in every replicate, :func:`evosim.analysis.traits.founders_drawn`, or no clade
        became intelligent).
    """
    runs = tr.experiment_runs(folder)
    if not runs or not tr.founders_drawn(runs):
        return [], ""
    res = tr.analyse_experiment(folder, control, lineage_table)
    df = res["lineages"]
    if not len(df):
        return [], ""
    ladder = load_world(Path(runs[0][2]) / "config.yaml").technology.ladder
    gate = max((m.min_dexterity for m in ladder), default=0.0)
    res["blocked"] = tr.blocked_effects(df, gate, control=control)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    hazards = pd.concat([res["hazards"].assign(arms=control),
                         res["hazards_all_arms"].assign(arms="all (strata)")], ignore_index=True)  # fmt: skip
    tables = {"trait_hazards.csv": hazards, "trait_n.csv": res["n"],
              "trait_blocked.csv": res["blocked"], "trait_lineages.csv": df}  # fmt: skip
    files = []
    for name, t in tables.items():
        atomic_write_text(out / name, t.to_csv(index=False))
        files.append(out / name)
    md = markdown(res, control)
    if plots:
        from evosim.reports.traits_plots import plot_hazards  # matplotlib only to plot

        png = plot_hazards(
            res["hazards"], out / "trait_hazards.png", control, res["hazards_all_arms"]
        )
        files.append(png)
        md += f"\n![trait hazards]({png.name})\n"
    atomic_write_text(out / "traits.md", md)
    files.append(out / "traits.md")
    return files, md
