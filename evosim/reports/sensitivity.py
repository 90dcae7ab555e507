"""The report of a sweep (``evosim report`` on a sweep folder; docs/experiments.md, "Sweeps and sensitivity").

Every finished run is measured by the experiment report's own per-run function
(:func:`evosim.reports.outcomes.analyse_run`), and every sample's runs are
summarised by its bootstrap (:func:`evosim.reports.outcomes.bootstrap_results`:
each metric per arm with a 95% interval, and each arm's paired difference from
the control), so the sweep reports exactly the experiment report's metrics,
whatever they become. Then, per outcome (a metric of an arm, or an arm's
difference from the control), the sensitivity indices of the design
(:mod:`evosim.reports.sensitivity_indices`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from evosim.errors import ConfigError
from evosim.experiments.manifest import MANIFEST
from evosim.experiments.spec import control_of
from evosim.io.logs import finished_summary, load_run
from evosim.reports import outcomes as rp
from evosim.reports.files import intro, plotter, write_report_files
from evosim.reports.sensitivity_data import INDEX_MEANING, SweepReport
from evosim.reports.sensitivity_indices import INDICES, METHOD, sensitivity_table
from evosim.reports.thresholds import (
    Grids,
    aggregate,
    agreement,
    agreement_notes,
    run_rows,
)

#: Outcomes the Markdown summary and the plots show (all of them are in the CSV files).
KEY_OUTCOMES = (
    "intelligent",
    "technological",
    "p_technological",
    "km_median_ticks_to_technological",
    "technological_share_settled",
)


#: The outcomes of the grid's outcome table: (column of samples.csv, heading).
LEVEL_OUTCOMES = (
    ("p_technological", "P(a technological species)"),
    ("intelligent", "intelligent species / replicate"),
    ("technological", "technological species / replicate"),
    ("km_median_ticks_to_technological", "median ticks to technology (Kaplan–Meier)"),
    ("technological_share_settled", "share technological at the plateau"),
)


def read_manifest(folder: str | Path) -> dict:
    """The folder's ``experiment.json`` ({} if there is none). Raises ConfigError if it is unreadable."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable experiment manifest ({exc})") from None
    if not isinstance(m, dict):
        raise ConfigError(f"{path}: not a readable experiment manifest (not a mapping)")
    return m


def is_sweep(folder: str | Path) -> bool:
    """Whether ``folder`` holds a sweep (its manifest records a design)."""
    return "sweep" in read_manifest(folder)


# ------------------------------------------------------------------ samples
def sample_table(
    runs: pd.DataFrame, design: dict, arms: list[str], control: str, n_boot: int, seed: int
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """One row per sample and arm: the parameter values, finished replicates, every metric with its interval,
    and (other arms) the paired difference from the control with its interval.

    Returns:
        (the table, the metrics as (name, label) in the report's order).
    """
    names = design["problem"]["names"]
    x = np.asarray(design["matrix"], np.float64)
    rows: list[dict] = []
    metrics: list[tuple[str, str]] = []
    for i in range(x.shape[0]):
        sub = runs[runs["sample"] == i] if len(runs) else runs
        res = rp.bootstrap_results(sub, arms, control, n_boot, seed) if len(sub) else None
        if res is not None and not metrics:
            metrics = list(dict.fromkeys(zip(res["metric"], res["label"])))
        for a in arms:
            row = {
                "sample": i,
                "arm": a,
                **{n: x[i, j] for j, n in enumerate(names)},
                "replicates": int((sub["arm"] == a).sum()) if len(sub) else 0,
            }
            if res is not None:
                for _, r in res[res["arm"] == a].iterrows():
                    m = r["metric"]
                    row.update({m: r["value"], f"{m}_low": r["ci_low"], f"{m}_high": r["ci_high"]})
                    if a != control:
                        row.update(
                            {
                                f"{m}_diff": r["diff"],
                                f"{m}_diff_low": r["diff_low"],
                                f"{m}_diff_high": r["diff_high"],
                            }
                        )
            if len(sub) and (sub["arm"] == a).any():
                row.update(survival_outcomes(sub[sub["arm"] == a]))
            rows.append(row)
    if len(rows):
        metrics += [m for m in SURVIVAL_METRICS if m not in metrics]
    return pd.DataFrame(rows), metrics


#: the time-to-event outcomes of a sample's arm (:func:`survival_outcomes`), as (column, label)
SURVIVAL_METRICS = [
    ("km_median_ticks_to_technological", "median ticks to the first technological species (Kaplan-Meier; "
     "inf: not reached)"),
    ("rmst_ticks_to_technological", "restricted mean ticks to the first technological species (Kaplan-Meier, "
     "to the horizon)"),
    ("km_share_technological", "share of replicates with a technological species by the horizon (Kaplan-Meier)"),
]  # fmt: skip


def survival_outcomes(runs: pd.DataFrame) -> dict[str, float]:
    """Kaplan-Meier median, RMST at the horizon and share by the horizon of the ticks to the first
    technological species, over the runs of one sample and arm (runs.csv rows;
    :mod:`evosim.analysis.survival`)."""
    from lifelines.utils import restricted_mean_survival_time

    from evosim.analysis.survival import km, run_times

    rt = run_times(runs)
    horizon = float(runs["horizon"].max())
    fit = km(rt["ticks"], rt["event"])
    with warnings.catch_warnings():  # scipy's quad on a step function
        warnings.simplefilter("ignore")
        rmst = float(restricted_mean_survival_time(fit, t=horizon))
    surv = fit.survival_function_
    s_h = float(surv[surv.index <= horizon].iloc[-1, 0])
    return {
        "km_median_ticks_to_technological": float(fit.median_survival_time_),
        "rmst_ticks_to_technological": rmst,
        "km_share_technological": 1.0 - s_h,
    }


# ------------------------------------------------------------------- report
def build_sweep_report(
    folder: str | Path,
    n_boot: int = 2000,
    seed: int = 0,
    grids: Grids | None = None,
    th: rp.Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Analyse every finished run of a sweep folder.

    ``progress``: called with (runs looked at, runs in the folder) after each.

    Raises:
        ConfigError: not a sweep folder, or no finished run in it.
    """
    folder = Path(folder)
    m = read_manifest(folder)
    if "sweep" not in m:
        raise ConfigError(f"{folder}: not a sweep folder (no {MANIFEST} with a `sweep` design)")
    try:
        design = m["sweep"]
        arms = [a["name"] for a in m["arms"]]
        runs = [
            (int(r["sample"]), r["arm"], int(r["replicate"]), folder / r["folder"])
            for r in m["runs"]
        ]
        _ = design["problem"]["names"], design["matrix"], design["sampler"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{folder / MANIFEST}: not a readable sweep manifest ({exc})") from None
    control = control_of(arms, m.get("control"))
    grids = grids or Grids()
    rows, trows, agree, unfinished = [], [], [], []
    for done, (i, arm, k, path) in enumerate(runs):
        if progress is not None:
            progress(done, len(runs))
        if not finished_summary(path):
            unfinished.append(f"sample-{i:04d}/{arm}/rep-{k}")
            continue
        run = load_run(path)
        row = rp.analyse_run(run, arm, k, th or rp.Thresholds())[0]
        rows.append({"sample": i, **row})
        trows += run_rows(run, grids, {"sample": i, "arm": arm, "replicate": k})
        agree.append(agreement(run))
    if progress is not None:
        progress(len(runs), len(runs))
    if not rows:
        raise ConfigError(
            f"{folder}: no finished run (summary.json with ended completed or extinct); run `evosim sweep` first"
        )
    runs_df = pd.DataFrame(rows)
    samples, metrics = sample_table(runs_df, design, arms, control, n_boot, seed)
    sens = sensitivity_table(samples, design, arms, control, metrics, seed)
    thresholds = aggregate(pd.DataFrame(trows), ["sample", "arm"])
    notes = []
    if unfinished:
        notes.append(
            f"{len(unfinished)} unfinished run(s) left out: {', '.join(unfinished[:10])}"
            + (" ..." if len(unfinished) > 10 else "")
            + "; re-run `evosim sweep` to finish them"
        )
    notes += agreement_notes(agree)
    rep = SweepReport(
        folder,
        m.get("name", folder.name),
        arms,
        control,
        design,
        runs_df,
        samples,
        sens,
        thresholds,
        metrics,
        notes,
        n_boot,
        seed,
    )
    rep.markdown = markdown(rep)
    return rep


def _share(mask: pd.Series, of: pd.Series) -> str:
    n = int(of.sum())
    return f"{int((mask & of).sum())} of {n} ({(mask & of).sum() / n:.0%})" if n else "—"


def space_table(rep: SweepReport) -> list[str]:
    """Markdown rows: in what share of the swept space things happened, per arm."""
    s = rep.samples
    out = ["| | " + " | ".join(f"`{a}`" for a in rep.arms) + " |", "|---|" + "---|" * len(rep.arms)]
    per = {a: s[s["arm"] == a] for a in rep.arms}

    def row(label: str, f) -> str:
        return f"| {label} | " + " | ".join(f(per[a], a) for a in rep.arms) + " |"

    have = {a: per[a]["replicates"] > 0 for a in rep.arms}
    col = {
        a: (lambda c, a=a: per[a][c] if c in per[a] else pd.Series(np.nan, index=per[a].index))
        for a in rep.arms
    }
    out.append(
        row(
            "samples with a finished replicate",
            lambda d, a: _share(have[a], pd.Series(True, index=d.index)),
        )
    )
    out.append(
        row(
            "P(a technological species), mean over samples",
            lambda d, a: rp.fmt(float(col[a]("p_technological")[have[a]].mean())),
        )
    )
    out.append(
        row(
            "samples where some replicate became technological",
            lambda d, a: _share(col[a]("p_technological") > 0, have[a]),
        )
    )
    out.append(
        row(
            "samples where every replicate did",
            lambda d, a: _share(col[a]("p_technological") >= 1, have[a]),
        )
    )
    out.append(
        row(
            "intelligent species / replicate, mean over samples",
            lambda d, a: rp.fmt(float(col[a]("intelligent")[have[a]].mean())),
        )
    )
    others = [a for a in rep.arms if a != rep.control]
    if others:

        def diff(c: str, sign: int):
            def f(d, a):
                if a == rep.control:
                    return ""
                v, lo, hi = col[a](f"{c}_diff"), col[a](f"{c}_diff_low"), col[a](f"{c}_diff_high")
                defined = have[a] & v.notna()
                moved = (v * sign > 0) & defined
                sure = ((lo if sign > 0 else -hi) > 0) & defined
                return f"{_share(moved, defined)}; interval excludes 0 in {int(sure.sum())}"

            return f

        out.append(
            row("samples where the arm raised technological species", diff("technological", 1))
        )
        out.append(
            row(
                "samples where it lowered the restricted-mean FLOP to the first technological species",
                diff("flop_to_first_technological_rmean", -1),
            )
        )
    return out


def grid_tables(rep: SweepReport) -> list[str]:
    """For a grid over two parameters: per arm, a table of the time-to-event outcomes at each grid point.

    Cells: Kaplan-Meier median ticks to the first technological species ("not reached" when over half
    the replicates had none by the horizon) / share technological at the plateau (technological ÷
    decided intelligent clades) / share of intelligent clades still climbing. Rows: the first
    parameter's values; columns: the second's.
    """
    d = rep.design
    names = list(d["problem"]["names"])
    if d["sampler"] != "grid" or len(names) != 2 or not len(rep.samples):
        return []
    a_name, b_name = names
    s = rep.samples
    av, bv = sorted(pd.unique(s[a_name])), sorted(pd.unique(s[b_name]))

    def num(v: float, pct: bool = False) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "—"
        if np.isinf(v):
            return "not reached"
        return f"{v:.0%}" if pct else f"{v:.0f}"

    out = [
        "",
        "## The grid: time to technology",
        "",
        f"Per arm, rows `{a_name}`, columns `{b_name}`. Cells: median ticks to the first technological "
        "species (Kaplan–Meier) / share technological at the plateau (technological ÷ decided intelligent "
        "clades) / share of intelligent clades still climbing at the horizon (censored).",
    ]
    for arm in rep.arms:
        out += ["", f"`{arm}`:", "", f"| {a_name} \\ {b_name} | " + " | ".join(f"{b:g}" for b in bv) + " |",
                "|---|" + "---|" * len(bv)]  # fmt: skip
        for a in av:
            cells = []
            for b in bv:
                r = s[(s["arm"] == arm) & (s[a_name] == a) & (s[b_name] == b)]
                if not len(r) or not r["replicates"].iloc[0]:
                    cells.append("—")
                    continue
                r0 = r.iloc[0]
                cells.append(" / ".join((num(r0.get("km_median_ticks_to_technological", np.nan)),
                                         num(r0.get("technological_share_settled", np.nan), True),
                                         num(r0.get("climbing_share", np.nan), True))))  # fmt: skip
            out.append(f"| {a:g} | " + " | ".join(cells) + " |")
    return out


def _with_interval(row: pd.Series, col: str) -> str:
    """``value [low, high]`` of a samples.csv row (the value alone when it has no interval)."""
    v = row.get(col, np.nan)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    lo, hi = row.get(f"{col}_low", np.nan), row.get(f"{col}_high", np.nan)
    if np.isinf(v) or pd.isna(lo) or pd.isna(hi):
        return rp.fmt(float(v))
    return f"{rp.fmt(float(v))} [{rp.fmt(float(lo))}, {rp.fmt(float(hi))}]"


def level_tables(rep: SweepReport) -> list[str]:
    """For a grid: per arm, the key outcomes at each level of each parameter (Markdown lines).

    With one parameter, each row is a sample: its mean over the replicates with its 95% bootstrap
    interval. With more, each row is a level of one parameter: the mean over the samples at that
    level (the other parameters averaged over, the numbers the main effect is computed from). A
    median not reached by the horizon reads "not reached".
    """
    d = rep.design
    names = list(d["problem"]["names"])
    s = rep.samples
    if d["sampler"] != "grid" or not len(s) or "replicates" not in s:
        return []
    shown = [(c, h) for c, h in LEVEL_OUTCOMES if c in s]
    if not shown:
        return []
    one = len(names) == 1
    runs = rep.runs
    horizon = (
        runs.groupby(["sample", "arm"])["horizon"].max().astype(float).to_dict()
        if len(runs) and {"sample", "arm", "horizon"} <= set(runs)
        else {}
    )
    out = [
        "",
        "## The outcome at each grid value",
        "",
        "Per arm: the mean over each sample's replicates with its 95% bootstrap interval "
        '(samples.csv); a Kaplan–Meier median is "not reached" when over half of the replicates '
        "had no technological species by the horizon."
        if one
        else "Per arm and parameter: at each of its levels, the mean over the samples at that level "
        "(the other parameters averaged over; the level means the main effect compares). A "
        "Kaplan–Meier median not reached at some sample is counted, not averaged.",
    ]
    for arm in rep.arms:
        a = s[(s["arm"] == arm) & (s["replicates"] > 0)]
        for name in names:
            out += ["", f"`{arm}`, by `{name}`:" if len(rep.arms) > 1 or not one else f"By `{name}`:", "",
                    f"| `{name}` | replicates | " + " | ".join(h for _, h in shown) + " |",
                    "|---|---|" + "---|" * len(shown)]  # fmt: skip
            for level, g in a.groupby(name, sort=True):
                if one:
                    r = g.iloc[0]
                    cells = [_with_interval(r, c) for c, _ in shown]
                    if "km_median_ticks_to_technological" in r:
                        k = [c for c, _ in shown].index("km_median_ticks_to_technological")
                        v = float(r["km_median_ticks_to_technological"])
                        h = horizon.get((int(r["sample"]), arm), np.nan)
                        cells[k] = (
                            (f"not reached (> {h:.0f})" if np.isfinite(h) else "not reached")
                            if np.isposinf(v)
                            else ("—" if np.isnan(v) else f"{v:.0f}")
                        )
                else:
                    cells = []
                    for c, _ in shown:
                        v = g[c].to_numpy(np.float64)
                        inf = int(np.isposinf(v).sum())
                        cells.append(
                            f"not reached at {inf} of {len(v)}"
                            if inf
                            else rp.fmt(float(np.nanmean(v)) if np.isfinite(v).any() else np.nan)
                        )
                out.append(
                    f"| {level:.4g} | {int(g['replicates'].sum())} | " + " | ".join(cells) + " |"
                )
    return out


def markdown(rep: SweepReport) -> str:
    """The Markdown summary: design, share of the swept space, key sensitivity indices, notes."""
    d = rep.design
    p = d["problem"]
    n = len(d["matrix"])
    ticks = rep.runs["ticks_run"].max()
    out = intro(
        f"Sweep report: {rep.name}",
        f"{d['sampler']} design (seed {d['seed']}) of {n} sample(s) over {len(p['names'])} parameter(s) x "
        f"{len(rep.arms)} arm(s) x {d.get('replicates', '?')} replicate(s); {len(rep.runs)} finished run(s), up to "
        f"{ticks} ticks; control arm `{rep.control}`. Per-sample values (samples.csv) carry 95% bootstrap "
        f"intervals over replicates ({rep.n_boot} resamples, seed {rep.seed}); differences are paired by "
        "replicate.",
    ) + [
        "| parameter | range | scale |",
        "|---|---|---|",
    ]
    for name, (lo, hi), dist in zip(p["names"], p["bounds"], p["dists"]):
        out.append(
            f"| `{name}` | [{lo:.6g}, {hi:.6g}] | {'log' if dist == 'logunif' else 'linear'} |"
        )
    out += ["", "## Share of the swept space", ""] + space_table(rep) + level_tables(rep)
    out += grid_tables(rep)
    cols = INDICES[d["sampler"]]
    main, conf = cols[0], (cols[1] if cols[1].endswith("_conf") else None)
    sens = rep.sensitivity
    others = [a for a in rep.arms if a != rep.control]
    shown = (
        [(rep.control, "value", m) for m in KEY_OUTCOMES]
        + [(a, "diff", "technological") for a in others]
        + [(a, "value", "compute_saving") for a in others]
    )
    shown = [
        (a, k, m)
        for a, k, m in shown
        if ((sens["arm"] == a) & (sens["kind"] == k) & (sens["outcome"] == m)).any()
    ]
    if shown:
        head = [f"{m} ({a})" if k == "value" else f"{m}: {a} − {rep.control}" for a, k, m in shown]
        out += [
            "",
            f"## Sensitivity ({METHOD[d['sampler']]}: {main}{f' ± {conf}' if conf else ''})",
            "",
            INDEX_MEANING[d["sampler"]][2]
            + (
                " With a single parameter it is 1 whenever the outcome varies over the grid and 0 "
                "when it is constant: it says only whether the parameter moved the outcome; the "
                "table of the outcome at each grid value above says how."
                if d["sampler"] == "grid" and len(p["names"]) == 1
                else ""
            )
            + ' All indices describe the swept box only (docs/experiments.md, "Reading the '
            'indices").',
            "",
            "| parameter | " + " | ".join(head) + " |",
            "|---|" + "---|" * len(shown),
        ]
        for name in p["names"]:
            cells = []
            for a, k, m in shown:
                r = sens[
                    (sens["arm"] == a)
                    & (sens["kind"] == k)
                    & (sens["outcome"] == m)
                    & (sens["parameter"] == name)
                ].iloc[0]
                cells.append(
                    "—"
                    if r["note"].startswith("not analysed")
                    else rp.fmt(r[main]) + (f" ± {rp.fmt(r[conf])}" if conf else "")
                )
            out.append(f"| `{name}` | " + " | ".join(cells) + " |")
        skipped = {
            (a, k, m): sens[(sens["arm"] == a) & (sens["kind"] == k) & (sens["outcome"] == m)][
                "note"
            ].iloc[0]
            for a, k, m in shown
        }
        out += [""] + [f"- {h}: {why}" for h, why in zip(head, skipped.values()) if why]
    if rep.notes:
        out += ["", "## Notes", ""] + [f"- {x}" for x in rep.notes]
    return "\n".join(out) + "\n"


#: The tables of the sweep report, by file.
TABLES = {"samples.csv": "samples", "sensitivity.csv": "sensitivity", "runs.csv": "runs",
          "thresholds.csv": "thresholds"}  # fmt: skip


def write_sweep_report(rep: SweepReport, out: str | Path, plots: bool = True) -> list[Path]:
    """Write samples.csv, sensitivity.csv, runs.csv, thresholds.csv, summary.md and (optionally) PNG plots."""
    plot = plotter("evosim.reports.sensitivity_plots", "plot_sweep", rep) if plots else None
    tables = {name: getattr(rep, attr) for name, attr in TABLES.items()}
    return write_report_files(out, tables, rep.markdown, plot)
