"""The hard-paths report of an experiment folder (``evosim report``; docs/experiments.md).

It leads with the seed's quantity, per arm: n = intelligent / technological
clades (and species), the compute to the first intelligent against the first
technological species, ticks and FLOP to the first technological species as
restricted means (runs that never got there count at the horizon) beside the
conditional means, and the compute saving factor (the control's restricted-mean
FLOP to the first technological species ÷ the arm's). Then every metric with
its bootstrap 95% interval over replicates and the difference of every arm
from the control, paired by replicate (arms share their replicate seeds); and
what held each intelligent species that never became technological.

**Held by a gate** (:func:`held_by_gate`; clades.csv ``held_by``): an
intelligent, not technological clade whose every intelligent species alive at
the end fails a gate (the bottleneck rule's first step). The plateau detector
may find it unsettled (its skill still moves), but it is not *still climbing*:
the horizon warning, the plateau of n(T) and the censoring section's count of
clades still climbing leave it out, as the bottleneck table leaves its species
out of ``still climbing`` (:func:`evosim.reports.outcomes_markdown.censoring_view`).

Per-run outcomes, clades and the bottleneck rule: :mod:`evosim.analysis.outcomes`;
metrics and the bootstrap: :mod:`evosim.reports.arm_metrics`; the Markdown
summary: :mod:`evosim.reports.outcomes_markdown`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from evosim.analysis.outcomes import (
    BOTTLENECKS,
    CLADE_COLUMNS,
    GATES,
    STUCK_COLUMNS,
    TRAJECTORY_COLUMNS,
    Thresholds,
    analyse_run,
    classify,
)
from evosim.analysis.survival import default_horizons, n_by_tick, n_plateau, survival_table
from evosim.analysis.whether import whether_or_when
from evosim.errors import ConfigError
from evosim.experiments.manifest import discover
from evosim.io.logs import Run, finished_summary, load_run
from evosim.reports.arm_metrics import METRICS, bootstrap_results
from evosim.reports.files import plotter, write_report_files
from evosim.reports.outcomes_data import Report
from evosim.reports.outcomes_markdown import censoring_view, fmt, markdown
from evosim.reports.survival import horizon_warning

__all__ = ["BOTTLENECKS", "METRICS", "Report", "Thresholds", "analyse_run", "bootstrap_results",
           "build_report", "classify", "discover", "fmt", "markdown", "write_report"]  # fmt: skip


# ------------------------------------------------------------------- report
def build_report(
    folder: str | Path,
    n_boot: int = 2000,
    seed: int = 0,
    th: Thresholds | None = None,
    on_run: Callable[[Run, str, int], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Analyse every finished replicate of an experiment folder.

    Args:
        folder: the experiment folder.
        n_boot, seed: the bootstrap.
        th: the classification conventions (default :class:`Thresholds`).
        on_run: called with each finished run (arm, replicate) once it is loaded, so that other
            analyses of the same runs need not load them again (each is tens of megabytes).
        progress: called with (runs looked at, runs in the folder) after each.

    Raises:
        ConfigError: not an experiment folder, or no finished replicate in it.
    """
    folder = Path(folder)
    th = th or Thresholds()
    name, arms, control, runs = discover(folder)
    rows: list[dict] = []
    stuck: list[dict] = []
    clades: list[pd.DataFrame] = []
    trajs: list[pd.DataFrame] = []
    notes: list[str] = []
    config: dict = {}
    unfinished: list[str] = []
    worlds: dict[str, dict[str, str]] = {}  # arm -> replicate -> its world without seed and length
    for done, r in enumerate(runs, start=1):
        if progress is not None:
            progress(done - 1, len(runs))
        path = Path(r["path"])
        try:
            run = (
                load_run(path) if finished_summary(path) else None
            )  # summary first: skip loading unfinished runs
        except FileNotFoundError:  # a summary but no config.yaml: not a run folder evosim wrote
            run = None
        if run is None:
            unfinished.append(f"{r['arm']}/rep-{r['replicate']}")
            continue
        config = config or run.config
        worlds.setdefault(r["arm"], {})[f"rep-{r['replicate']}"] = _world_of(run.config)
        row, st, cl, tr = analyse_run(run, r["arm"], int(r["replicate"]), th)
        cl["held_by"] = held_by_gate(run, st, cl)
        if on_run is not None:
            on_run(run, r["arm"], int(r["replicate"]))
        rows.append(row)
        stuck += st
        clades.append(cl)
        trajs.append(tr)
    if progress is not None:
        progress(len(runs), len(runs))
    if not rows:
        raise ConfigError(
            f"{folder}: no finished replicate (summary.json with ended completed or extinct); "
            "run `evosim experiment` first"
        )
    if unfinished:
        notes.append(
            f"{len(unfinished)} unfinished replicate(s) left out: {', '.join(unfinished[:10])}"
            + (" ..." if len(unfinished) > 10 else "")
            + "; re-run `evosim experiment` to finish them"
        )
    runs_df = pd.DataFrame(rows)
    stuck_df = pd.DataFrame(stuck, columns=STUCK_COLUMNS)
    traj = _concat(trajs, TRAJECTORY_COLUMNS)
    clades_df = _concat(clades, [*CLADE_COLUMNS, "held_by"])
    if runs_df.groupby("arm").size().max() < 2:
        notes.append("fewer than 2 replicates per arm: the intervals are degenerate")
    notes += mixed_runs(runs_df, worlds)
    results = bootstrap_results(runs_df, arms, control, n_boot, seed)
    rep = Report(folder, name, arms, control, runs_df, stuck_df, results, traj, config, clades_df,
                 notes, n_boot, seed, th=th)  # fmt: skip
    rep.horizons = default_horizons(float(runs_df["horizon"].max()))
    rep.drawn = drawn_arms(worlds)
    per_clade = rep.clades_for_analysis()
    rep.survival = survival_table(runs_df, per_clade, arms, control, rep.horizons)
    rep.whether = whether_or_when(per_clade, arms, control)
    horizon = int(runs_df["horizon"].max())
    rep.n_by_tick = n_by_tick(clades_df, arms, horizon, n_boot, seed)
    # a plateau of the counts is no plateau while clades are still climbing (the horizon warning;
    # a clade held by a gate is not climbing: the bottleneck rule)
    climbing = censoring_view(clades_df)
    rep.n_plateau = {
        a: math.nan if horizon_warning(climbing, [a]) else n_plateau(clades_df, a, horizon)
        for a in arms
    }
    rep.markdown = markdown(rep)
    return rep


def held_by_gate(run: Run, stuck: list[dict], clades: pd.DataFrame) -> list[str]:
    """Per row of ``clades`` (one run's): the gates that hold it, or "".

    An intelligent clade without a technological species is *held by a gate* when every one of
    its species alive at the end that is intelligent is labelled by a gate (``dexterity``,
    ``land``: the first step of the bottleneck rule, :mod:`evosim.analysis.outcomes`); the value
    is those labels, ``;``-joined in :data:`~evosim.analysis.outcomes.GATES` order. Such a clade
    is not *still climbing* however its skill moves: the gate, not the horizon, stops it (more
    ticks free it only if evolution carries its genes past the gate).

    Args:
        run: the run (its species.csv: ``root`` and ``alive``).
        stuck: its stuck species, as :func:`evosim.analysis.outcomes.analyse_run` gives them.
        clades: its clades, as :func:`evosim.analysis.outcomes.analyse_run` gives them.
    """
    sp = run.species
    if not len(sp) or not len(clades):
        return [""] * len(clades)
    root = sp.set_index("id")["root"]
    alive = set(int(i) for i in sp.loc[sp["alive"].astype(bool), "id"])
    labels: dict[int, set[str]] = {}
    for r in stuck:
        sid = int(r["species_id"])
        if sid in alive:
            labels.setdefault(int(root[sid]), set()).add(str(r["bottleneck"]))
    out = []
    for rid, tech in zip(clades["root_id"], clades["technological_species"]):
        held = labels.get(int(rid), set())
        out.append(";".join(g for g in GATES if g in held) if held and held <= set(GATES)
                   and not tech else "")  # fmt: skip
    return out


def _world_of(config: dict) -> str:
    """A run's resolved world without its seed and length, as comparable text.

    The config is read through the schema first, so a key an older evosim did not write
    (and a newer one writes with its default when it extends the run) compares equal to
    its default; a config the schema no longer accepts is compared as written.
    """
    from pydantic import ValidationError

    from evosim.config.schema import World

    try:
        config = World.model_validate(config).model_dump(mode="json")
    except ValidationError:
        pass
    sim = {k: v for k, v in config.get("sim", {}).items() if k not in ("seed", "ticks")}
    return json.dumps({**config, "sim": sim}, sort_keys=True, default=str)


def mixed_runs(runs_df: pd.DataFrame, worlds: dict[str, dict[str, str]]) -> list[str]:
    """Warnings when the replicates compared differ in length, or within an arm in world.

    A manifest (experiment.json) guarantees neither can happen; hand-built or
    hand-edited folders can mix them, and their outcomes are then not comparable.
    """
    out = []
    lengths = runs_df.groupby("horizon")["arm"].count()
    if len(lengths) > 1:
        detail = ", ".join(
            f"{int(h)} ticks ({', '.join(f'{a} rep-{k}' for a, k in zip(g['arm'], g['replicate']))})"
            for h, g in runs_df.groupby("horizon")
        )
        out.append(
            f"WARNING: the replicates differ in length: {detail}; outcomes by a horizon are not "
            "comparable across them"
        )
    drawn = drawn_arms(worlds)
    for arm, reps in worlds.items():
        if len(set(reps.values())) < 2 or arm in drawn:
            continue
        out.append(
            f"WARNING: the replicates of arm '{arm}' differ in their world (other than seed and "
            f"length): {', '.join(sorted(reps))}; they are not replicates of one condition"
        )
    if drawn:
        out.append(
            f"note: the replicates of {', '.join(repr(a) for a in drawn)} differ only in their "
            "founding species, as when the founders are drawn per seed from priors (a tree of "
            "life); each replicate is then its own set of body plans, so the per-clade sections "
            "pool every clade as 'all clades' (a founder's name is another body plan in each "
            "replicate; the traits section reads them by their genes)"
        )
    return out


def drawn_arms(worlds: dict[str, dict[str, str]]) -> list[str]:
    """Arms whose replicates' worlds differ, but only in their founding species (a tree of life)."""
    return [arm for arm, reps in worlds.items()
            if len(set(reps.values())) > 1 and len({_without_species(w) for w in reps.values()}) == 1]  # fmt: skip


def _without_species(world: str) -> str:
    """:func:`_world_of`'s text without the founding species."""
    return json.dumps(
        {k: v for k, v in json.loads(world).items() if k != "species"}, sort_keys=True
    )


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The non-empty ``parts`` stacked, or an empty table with ``columns``."""
    parts = [x for x in parts if len(x)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


#: The tables of the report written as they are, by file (results.csv is written with n(T)).
TABLES = {"runs.csv": "runs", "stuck_species.csv": "stuck", "clades.csv": "clades",
          "trajectories.csv": "trajectories", "survival.csv": "survival",
          "whether_when.csv": "whether"}  # fmt: skip


def write_report(
    rep: Report, out: str | Path, plots: bool = True, thresholds: pd.DataFrame | None = None
) -> list[Path]:
    """Write results.csv, the :data:`TABLES` (runs, stuck species, clades, trajectories, survival,
    whether or when), summary.md and the PNGs.

    Args:
        rep: the report (:func:`build_report`).
        out: the folder.
        plots: whether to draw the PNGs.
        thresholds: the re-detection at other thresholds
            (:meth:`evosim.reports.thresholds.Redetections.result`), if made: written as
            thresholds.csv, and thresholds.png among the plots summary.md links.

    Returns:
        The files written.
    """
    tables = {"results.csv": rep.results_with_n_by_tick()}
    tables.update({name: getattr(rep, attr) for name, attr in TABLES.items()})
    if thresholds is not None:
        tables["thresholds.csv"] = thresholds
    plot = None
    if plots:
        outcome_plots = plotter("evosim.reports.outcomes_plots", "plot_all", rep)

        def plot(folder: Path) -> list[Path]:
            pngs = outcome_plots(folder)
            if thresholds is not None and len(thresholds):
                from evosim.reports.sensitivity_plots import plot_thresholds  # matplotlib

                pngs.append(plot_thresholds(thresholds, folder / "thresholds.png", "arm"))
            return pngs

    return write_report_files(out, tables, rep.markdown, plot)
