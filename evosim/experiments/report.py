"""The hard-paths report of an experiment folder (``evosim report``; docs/experiments.md).

Per arm: species that became intelligent and technological, their ratio n =
intelligent / technological (the "n" of the hard-paths hypothesis), the share
of intelligent species that never became technological and the bottleneck
each of them lacked, and the time and compute to the first technological
species; bootstrap 95% intervals over replicates and the difference of every
arm from the control, paired by replicate (arms share their replicate seeds).

Bottleneck rule (for an intelligent species that never became technological;
genes are its final mean genes, else its founder genes; effective dexterity
is max(dexterity gene, its ``manipulators`` in species.csv -- granted to it, or
inherited from its parent species when it formed); L = how many milestones it
reached):

1. ``dexterity`` -- effective dexterity below ``min_dexterity`` of the first
   unmet milestone ``ladder[L]``; ``land`` -- mean habitat < 0.5, that
   milestone ``needs_land`` and no fire substitute (dexterity is named first
   when both fail there);
2. the same two gates on a later milestone, in ladder order;
3. ``sociality`` < 0.3, ``childhood`` < 0.2, ``lifespan`` < 0.2 (genes in
   [0, 1]; :class:`Thresholds`), in that order;
4. ``diffusion`` -- it held the final milestone, but never with enough of its
   adults for long enough (``detectors.tech_share``, ``tech_window``);
5. ``none identified`` -- no gate failed: it ran out of time or population.

``lacks`` lists every gate it fails, not only the first.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evosim.defaults import GENES
from evosim.errors import ConfigError
from evosim.experiments.experiment import finished_summary
from evosim.experiments.spec import control_of
from evosim.io.files import atomic_write_text
from evosim.io.logs import Run, load_run

BOTTLENECKS = (
    "dexterity",
    "land",
    "sociality",
    "childhood",
    "lifespan",
    "diffusion",
    "none identified",
)
#: (metric, label, kind, numerator column, denominator column): kind "mean" averages the column over
#: replicates where it is defined; "ratio" is sum(numerator) / sum(denominator) over replicates.
METRICS = [
    ("intelligent", "intelligent species / replicate", "mean", "intelligent", None),
    ("technological", "technological species / replicate", "mean", "technological", None),
    ("n", "n = intelligent / technological", "ratio", "intelligent", "technological"),
    ("stuck_share", "share of intelligent never technological", "ratio", "stuck", "intelligent"),
    ("p_technological", "P(a technological species)", "mean", "any_technological", None),
    (
        "ticks_to_first_intelligent",
        "ticks to first intelligent",
        "mean",
        "first_intelligent_tick",
        None,
    ),
    (
        "ticks_to_first_technological",
        "ticks to first technological",
        "mean",
        "first_technological_tick",
        None,
    ),
    (
        "flop_to_first_technological",
        "FLOP to first technological",
        "mean",
        "first_technological_flop",
        None,
    ),
]


@dataclass(frozen=True)
class Thresholds:
    """Gene levels (in [0, 1]) below which a species counts as lacking a soft prerequisite."""

    sociality: float = 0.3
    childhood: float = 0.2
    lifespan: float = 0.2
    aquatic: float = 0.5


@dataclass
class Report:
    """Everything ``evosim report`` writes."""

    folder: Path
    name: str
    arms: list[str]
    control: str
    runs: pd.DataFrame
    stuck: pd.DataFrame
    results: pd.DataFrame
    trajectories: pd.DataFrame
    config: dict
    notes: list[str] = field(default_factory=list)
    n_boot: int = 2000
    seed: int = 0
    markdown: str = ""
    #: the bottleneck categories, in the order tables and plots list them
    bottlenecks: tuple[str, ...] = BOTTLENECKS

    def result(self, arm: str, metric: str) -> pd.Series:
        """The row of :attr:`results` for ``arm`` and ``metric``."""
        r = self.results
        return r[(r["arm"] == arm) & (r["metric"] == metric)].iloc[0]


# ----------------------------------------------------------------- discovery
def discover(folder: str | Path) -> tuple[str, list[str], str, list[dict]]:
    """(name, arms, control, runs) of an experiment folder.

    Read from ``experiment.json`` or by scanning ``<arm>/rep-<k>/``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such experiment folder")
    mpath = folder / "experiment.json"
    if mpath.is_file():
        try:
            m = json.loads(mpath.read_text(encoding="utf-8"))
            arms = [a["name"] for a in m["arms"]]
            runs = [dict(r, path=folder / r["folder"]) for r in m["runs"]]
            return m.get("name", folder.name), arms, control_of(arms, m.get("control")), runs
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ConfigError(f"{mpath}: not a readable experiment manifest ({exc})") from None
    runs = []
    for rep in sorted(folder.glob("*/rep-*")):
        m = re.fullmatch(r"rep-(\d+)", rep.name)
        if rep.is_dir() and m and not rep.parent.name.startswith(("_", ".")):
            runs.append(
                {"arm": rep.parent.name, "replicate": int(m.group(1)), "seed": None, "path": rep}
            )
    arms = sorted({r["arm"] for r in runs})
    if not arms:
        raise ConfigError(
            f"{folder}: not an experiment folder (no experiment.json and no <arm>/rep-<k>/ run folders)"
        )
    return folder.name, arms, control_of(arms), runs


# ------------------------------------------------------------------ one run
def _grants(run: Run) -> pd.DataFrame:
    """species.csv indexed by id, with its ``manipulators`` and ``fire_substitute`` columns.

    Those are the registry's values at the end of the run (at extinction for an
    extinct species); a daughter species inherits them from its parent when it forms.
    A species.csv written before these columns existed is read as "no grants"
    unless the run's config has a manipulators or fire_substitute intervention.
    """
    sp = run.species
    if not {"manipulators", "fire_substitute"} <= set(sp.columns):
        kinds = {
            (iv.get("effect") or {}).get("kind", "manipulators")
            for iv in run.config.get("interventions") or []
        }
        if kinds & {"manipulators", "fire_substitute"}:
            raise ConfigError(
                f"{run.folder / 'species.csv'}: no manipulators / fire_substitute columns (written by an "
                "older evosim) although the run has such interventions; re-run it to report on it"
            )
        sp = sp.assign(manipulators=0.0, fire_substitute=False)
    return sp.set_index("id")


def _max_levels(run: Run, ladder: list[dict]) -> dict[int, int]:
    """Milestones reached per species id, from the milestone events (the detectors log one per milestone reached)."""
    names = [m["name"] for m in ladder]
    out: dict[int, int] = {}
    ev = run.events
    if ev.empty:
        return out
    rows = ev[(ev["kind"].astype(str) == "milestone") & ev["species"].notna()]
    for sid, details in zip(rows["species"], rows["details"].astype(str)):
        hit = details.rsplit("first reached ", 1)[-1].strip()
        if hit in names:
            out[int(sid)] = max(out.get(int(sid), 0), names.index(hit) + 1)
    return out


def final_genes(run: Run, sid: int) -> dict[str, float]:
    """Mean genes of a species at its last sampled tick with members, else its founder genes."""
    ts = run.timeseries
    rows = ts[(ts["species"] == sid) & (ts["population"] > 0)]
    if len(rows) and rows[[f"mean_{g}" for g in GENES]].iloc[-1].notna().all():
        last = rows.iloc[-1]
        return {g: float(last[f"mean_{g}"]) for g in GENES}
    sp = run.species.set_index("id").loc[sid]
    return {g: float(sp[f"founder_{g}"]) for g in GENES}


def classify(
    genes: dict[str, float],
    level: int,
    ladder: list[dict],
    manipulators: float = 0.0,
    fire_substitute: bool = False,
    th: Thresholds = Thresholds(),
) -> tuple[str, list[str]]:
    """(primary bottleneck, every gate failed) of an intelligent, never technological species (rule: module doc)."""
    eff_dex = max(genes["dexterity"], manipulators)
    aquatic = genes["habitat"] < th.aquatic and not fire_substitute
    hard: list[str] = []
    for m in ladder[level:]:
        if eff_dex < m.get("min_dexterity", 0.0) and "dexterity" not in hard:
            hard.append("dexterity")
        if aquatic and m.get("needs_land", False) and "land" not in hard:
            hard.append("land")
    soft = [g for g in ("sociality", "childhood", "lifespan") if genes[g] < getattr(th, g)]
    lacks = hard + soft
    if level >= len(ladder):
        return "diffusion", lacks
    return (lacks[0] if lacks else "none identified"), lacks


def analyse_run(
    run: Run, arm: str, replicate: int, th: Thresholds = Thresholds()
) -> tuple[dict, list[dict], pd.DataFrame]:
    """Per-run outcomes, the stuck species (intelligent, never technological) and the intelligent species' trajectories.

    ``run`` is a finished run (it has its summary).
    """
    s = run.summary
    assert s is not None  # a finished run has its summary
    sp = run.species
    ladder = run.config.get("technology", {}).get("ladder", [])
    intel = sp["intelligent_at"].notna() if len(sp) else pd.Series(dtype=bool)
    tech = sp["technological_at"].notna() if len(sp) else pd.Series(dtype=bool)
    n_int, n_tech = int(s["intelligent_species"]), int(s["technological_species"])
    fi, ft = s.get("first_intelligent") or {}, s.get("first_technological") or {}
    row = {
        "arm": arm, "replicate": replicate, "seed": s.get("seed"), "folder": str(run.folder), "ended": s.get("ended"),
        "ticks_run": s.get("ticks_run"), "intelligent": n_int, "technological": n_tech,
        "stuck": int((intel & ~tech).sum()) if len(sp) else 0, "any_technological": float(n_tech > 0),
        "first_intelligent_tick": fi.get("tick", math.nan), "first_intelligent_flop": fi.get("flop", math.nan),
        "first_technological_tick": ft.get("tick", math.nan), "first_technological_flop": ft.get("flop", math.nan),
        "flop_total": (s.get("compute") or {}).get("flop_total", math.nan),
    }  # fmt: skip
    stuck_rows: list[dict] = []
    if len(sp):
        levels = _max_levels(run, ladder)
        grants = _grants(run)
        for sid in sp.loc[intel & ~tech, "id"]:
            sid = int(sid)
            level_m = float(grants.at[sid, "manipulators"])
            has_fire = bool(grants.at[sid, "fire_substitute"])
            genes = final_genes(run, sid)
            primary, lacks = classify(genes, levels.get(sid, 0), ladder, level_m, has_fire, th)
            stuck_rows.append(
                {
                    "arm": arm,
                    "replicate": replicate,
                    "species": str(grants.at[sid, "name"]),
                    "species_id": sid,
                    "milestones_reached": levels.get(sid, 0),
                    "bottleneck": primary,
                    "lacks": ";".join(lacks),
                    "manipulators": level_m,
                    "fire_substitute": has_fire,
                    **{g: genes[g] for g in GENES},
                }
            )
    for b in BOTTLENECKS:
        row[f"stuck_{b.replace(' ', '_')}"] = sum(r["bottleneck"] == b for r in stuck_rows)
    traj = pd.DataFrame()
    if len(sp) and intel.any():
        ids = set(int(i) for i in sp.loc[intel, "id"])
        ts = run.timeseries
        traj = ts.loc[
            ts["species"].isin(ids) & (ts["population"] > 0),
            ["tick", "species", "name", "mean_brain", "mean_skill"],
        ].copy()
        traj["technological"] = traj["species"].isin(set(int(i) for i in sp.loc[tech, "id"]))
        traj.insert(0, "replicate", replicate)
        traj.insert(0, "arm", arm)
    return row, stuck_rows, traj


# ---------------------------------------------------------------- bootstrap
def _stat(
    table: dict[str, np.ndarray], kind: str, num: str, den: str | None, idx: np.ndarray
) -> np.ndarray:
    """Metric for each row of replicate-index draws ``idx`` (B, R); NaN where undefined, inf for x/0, x > 0."""
    x = table[num][idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "ratio":
            assert den is not None  # a ratio has a denominator
            y = table[den][idx]
            return np.nansum(x, axis=1) / np.nansum(y, axis=1)
        n = (~np.isnan(x)).sum(axis=1)
        return np.where(n > 0, np.nansum(x, axis=1) / np.maximum(n, 1), np.nan)


def _ci(draws: np.ndarray) -> tuple[float, float]:
    d = draws[~np.isnan(draws)]
    if d.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(d, [0.025, 0.975], method="inverted_cdf")
    return float(lo), float(hi)


def bootstrap_results(
    runs: pd.DataFrame, arms: list[str], control: str, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per arm and metric: value and 95% interval; difference from the control with its interval.

    Replicates are resampled with replacement, the same draw for every arm (a
    paired bootstrap: replicate k has the same seed in every arm); a missing
    replicate of an arm is left out of that arm's statistic. Intervals are
    percentile intervals (order statistics, so infinite values are kept as such).
    """
    reps = sorted(runs["replicate"].unique()) if len(runs) else []
    rng = np.random.default_rng(seed)
    idx = (
        rng.integers(0, len(reps), size=(n_boot, len(reps)))
        if reps
        else np.zeros((n_boot, 0), np.int64)
    )
    full = np.arange(len(reps))[None, :]
    tables, counts = {}, {}
    cols = {m[3] for m in METRICS} | {m[4] for m in METRICS if m[4]}
    for arm in arms:
        d = runs[runs["arm"] == arm].set_index("replicate").reindex(reps)
        tables[arm] = {c: d[c].to_numpy(np.float64) for c in cols}
        counts[arm] = int(d["ended"].notna().sum()) if len(d) else 0
    rows = []
    for metric, label, kind, num, den in METRICS:
        est = {
            a: float(_stat(tables[a], kind, num, den, full)[0]) if reps else math.nan for a in arms
        }
        draws = {
            a: _stat(tables[a], kind, num, den, idx) if reps else np.full(n_boot, math.nan)
            for a in arms
        }
        for a in arms:
            lo, hi = _ci(draws[a])
            defined = int((~np.isnan(tables[a][num])).sum()) if reps else 0
            r = {"arm": a, "metric": metric, "label": label, "value": est[a], "ci_low": lo, "ci_high": hi,
                 "replicates": counts[a], "replicates_defined": defined if kind == "mean" else counts[a]}  # fmt: skip
            if a == control:
                r.update(diff=math.nan, diff_low=math.nan, diff_high=math.nan)
            else:
                with np.errstate(invalid="ignore"):
                    dl, dh = _ci(draws[a] - draws[control])
                    r.update(diff=est[a] - est[control], diff_low=dl, diff_high=dh)
            rows.append(r)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- report
def build_report(
    folder: str | Path, n_boot: int = 2000, seed: int = 0, th: Thresholds = Thresholds()
) -> Report:
    """Analyse every finished replicate of an experiment folder.

    Raises:
        ConfigError: not an experiment folder, or no finished replicate in it.
    """
    folder = Path(folder)
    name, arms, control, runs = discover(folder)
    rows, stuck, trajs, notes = [], [], [], []
    config: dict = {}
    unfinished: list[str] = []
    for r in runs:
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
        row, st, tr = analyse_run(run, r["arm"], int(r["replicate"]), th)
        rows.append(row)
        stuck += st
        trajs.append(tr)
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
    stuck_df = pd.DataFrame(
        stuck,
        columns=[
            "arm",
            "replicate",
            "species",
            "species_id",
            "milestones_reached",
            "bottleneck",
            "lacks",
            "manipulators",
            "fire_substitute",
            *GENES,
        ],
    )
    traj = (
        pd.concat([t for t in trajs if len(t)], ignore_index=True)
        if any(len(t) for t in trajs)
        else pd.DataFrame(
            columns=[
                "arm",
                "replicate",
                "tick",
                "species",
                "name",
                "mean_brain",
                "mean_skill",
                "technological",
            ]
        )
    )
    if runs_df.groupby("arm").size().max() < 2:
        notes.append("fewer than 2 replicates per arm: the intervals are degenerate")
    results = bootstrap_results(runs_df, arms, control, n_boot, seed)
    rep = Report(
        folder, name, arms, control, runs_df, stuck_df, results, traj, config, notes, n_boot, seed
    )
    rep.markdown = markdown(rep)
    return rep


def fmt(v: float) -> str:
    """Compact number: 3 significant digits, '∞' for infinity, '—' for undefined."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-2):
        return f"{v:.2e}"
    return f"{v:.3g}"


def _cell(value: float, lo: float, hi: float) -> str:
    return fmt(value) if math.isnan(lo) else f"{fmt(value)} [{fmt(lo)}, {fmt(hi)}]"


def markdown(rep: Report) -> str:
    """The Markdown summary: outcomes, differences from control, bottlenecks, notes."""
    ticks = rep.runs["ticks_run"].max()
    out = [
        f"# Hard-paths report: {rep.name}",
        "",
        f"{len(rep.arms)} arm(s), {len(rep.runs)} finished replicate(s), up to {ticks} ticks; control arm: "
        f"`{rep.control}`. Values are over replicates with 95% bootstrap percentile intervals ({rep.n_boot} resamples, "
        f"seed {rep.seed}); differences are paired by replicate (arms share replicate seeds). n is inf when no species "
        "became technological, and — when none became intelligent either.",
        "",
    ]

    def cell(arm: str, metric: tuple, diff: bool = False) -> str:
        r = rep.result(arm, metric[0])
        if diff:
            return _cell(r["diff"], r["diff_low"], r["diff_high"])
        c = _cell(r["value"], r["ci_low"], r["ci_high"])
        return c + (
            f" (in {r['replicates_defined']})" if metric[0].startswith(("ticks_", "flop_")) else ""
        )

    out += [
        "## Outcomes per arm",
        "",
        "| | " + " | ".join(f"`{a}`" for a in rep.arms) + " |",
        "|---|" + "---|" * len(rep.arms),
    ]
    n_reps = rep.runs.groupby("arm").size()
    out.append(
        "| finished replicates | " + " | ".join(str(int(n_reps.get(a, 0))) for a in rep.arms) + " |"
    )
    out += [f"| {m[1]} | " + " | ".join(cell(a, m) for a in rep.arms) + " |" for m in METRICS]
    others = [a for a in rep.arms if a != rep.control]
    if others:
        out += [
            "",
            f"## Difference from `{rep.control}` (arm − control, paired by replicate)",
            "",
            "| | " + " | ".join(f"`{a}`" for a in others) + " |",
            "|---|" + "---|" * len(others),
        ]
        out += [
            f"| {m[1]} | " + " | ".join(cell(a, m, diff=True) for a in others) + " |"
            for m in METRICS
        ]
    out += [
        "",
        "## What the intelligent species that never became technological lacked",
        "",
        'Primary bottleneck of each such species, all replicates pooled (rule: docs/experiments.md, "Reading the '
        'report"); in brackets, how many fail that gate at all (a species can fail several).',
        "",
        "| | " + " | ".join(f"`{a}`" for a in rep.arms) + " |",
        "|---|" + "---|" * len(rep.arms),
    ]
    stuck = {a: rep.stuck[rep.stuck["arm"] == a] for a in rep.arms}
    out.append("| stuck species | " + " | ".join(str(len(stuck[a])) for a in rep.arms) + " |")
    for b in BOTTLENECKS:
        cells = []
        for a in rep.arms:
            st = stuck[a]
            c = int((st["bottleneck"] == b).sum())
            txt = f"{c} ({c / len(st):.0%})" if len(st) else "0"
            if b in BOTTLENECKS[:5] and len(st):
                txt += f" [{int(st['lacks'].str.split(';').apply(lambda x, b=b: b in x).sum())}]"
            cells.append(txt)
        out.append(f"| {b} | " + " | ".join(cells) + " |")
    if rep.notes:
        out += ["", "## Notes", ""] + [f"- {x}" for x in rep.notes]
    return "\n".join(out) + "\n"


def write_report(rep: Report, out: str | Path, plots: bool = True) -> list[Path]:
    """Write results.csv, runs.csv, stuck_species.csv, trajectories.csv, summary.md and (optionally) PNG plots.

    Returns:
        The files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    tables = {
        "results.csv": rep.results,
        "runs.csv": rep.runs,
        "stuck_species.csv": rep.stuck,
        "trajectories.csv": rep.trajectories,
    }
    for name, df in tables.items():
        atomic_write_text(out / name, df.to_csv(index=False))
        files.append(out / name)
    text = rep.markdown
    if plots:
        from evosim.experiments.plots import plot_all  # matplotlib is loaded only to plot

        pngs = plot_all(rep, out)
        files += pngs
        text += "\n## Plots\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    atomic_write_text(out / "summary.md", text)
    files.append(out / "summary.md")
    return files
