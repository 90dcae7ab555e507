"""Which traits predict technology: a Cox model over the intelligent lineages of many runs (lifelines).

On worlds whose body plans are drawn from a prior (``worlds/tree_of_life.yaml``,
docs/model.md §5) every replicate has its own founders, so over many replicates
the founders' traits vary and one can ask which of them, and which evolved
traits, make an intelligent lineage become technological sooner.

**Lineages** (:func:`lineages`): one row per intelligent counted clade
(a founding lineage, :func:`evosim.analysis.outcomes.clades`) of every run.
Its time from intelligence to technology is ``duration`` (ticks from its first
intelligent species to its first technological one) with ``event`` 1; a clade
that died out or was alive at the end without technology is censored
(``event`` 0) at its extinction or at the run's end: the cause-specific hazard
of technology, extinction censoring, as in :mod:`evosim.analysis.survival`.
Covariates, genes in [0, 1]:

- ``founder_<gene>``: the founding species' mean gene as the run drew it
  (``config.yaml``), and ``founder_<gene>_max`` its hard upper bound (its body
  plan: a dexterity bound of 0.1 is a flipper whatever the mean);
- ``evolved_<gene>``: the clade's mean gene when it became intelligent
  (population-weighted over its species at the last sample at or before its
  first intelligence: what evolution had made of the body plan by then).

**Hazard ratios** (:func:`trait_hazards`): for each covariate, lifelines'
``CoxPHFitter`` with that covariate alone (and, when there are several arms,
``arm`` as strata, since an intervention changes the baseline hazard, and the
variance clustered by replicate, since the arms share their replicates' trees
of life and so count each lineage once per arm), the hazard ratio per 0.1 of
the trait with its 95 % Wald interval (robust when clustered) and p-value. One covariate per fit: with
the few events of an experiment a model of all traits at once is unstable;
:func:`joint_hazards` fits it anyway (with a small ridge penalty) for the
reader who has the events.

**Not estimable** (``note``; the ratio, interval and p are then NaN): a
covariate without variation, a sample without an event, fewer than
:data:`MIN_EVENTS` events (one covariate per fit, so this is the rule of events
per variable; Vittinghoff & McCulloch 2007, "Relaxing the rule of ten events
per variable in logistic and Cox regression", Am. J. Epidemiol. 165:710, find
the Cox model's intervals and bias acceptable from 5), or a fit lifelines
flags with a ``ConvergenceWarning`` (its checks for complete separation --
the trait orders the events perfectly, so the partial likelihood rises
without bound and the ratio runs to 0 or infinity with an interval of
hundreds of decades -- for a trait that hardly varies, and its Newton-Raphson
convergence diagnostics) or that gives an infinite interval; and a fit pooled
over arms from fewer than :data:`MIN_CLUSTERS` replicates, whose robust
(clustered) variance is then no estimate at all (with two replicates it gives
p = 1e-180 from four events; Cameron & Miller 2015, "A practitioner's guide to
cluster-robust inference", J. Human Resources 50:317, on how it understates
the variance with few clusters: five is a floor, not a guarantee).

**Drawn body plans** (:func:`founders_drawn`): whether an experiment's
founders are drawn per replicate from a prior, so that a regression over
their traits means anything: a founding species of the same name has other
genes in two replicates of one arm (each run's ``config.yaml`` records the
drawn values). Founders chosen by hand (earthlike: a primate and a cetacean)
differ from one another in every replicate, but those two body plans are two
observations, not a sample of body plans.

**n** (:func:`n_ratio`): intelligent clades / technological clades over all
replicates, with a percentile interval from resampling replicates
(2000 draws, seeded).

**Interventions** (:func:`blocked_effects`): per arm, among the intelligent
clades whose founder would have been blocked (dexterity bound below the
ladder's highest ``min_dexterity``: ``handless``; mean habitat below 0.5:
``aquatic``), how many became technological.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evosim.analysis.outcomes import clades
from evosim.analysis.replay import newcombe
from evosim.config.yamlsafe import parse_fast
from evosim.defaults import GENES
from evosim.io.logs import Run, finished_summary, load_run

#: the traits of the seed's question (hands, land, sociality, childhood, lifespan) and the brain
TRAITS = ("dexterity", "habitat", "sociality", "childhood", "lifespan", "brain")
#: hazard ratios are per this change of a trait
PER = 0.1
ALPHA = 0.05
BOOT_DRAWS = 2000
BOOT_SEED = 0
#: fewest events for a hazard ratio to be reported (one covariate per fit: events per variable)
MIN_EVENTS = 5
#: fewest replicates (clusters) for the robust variance of a fit pooled over arms
MIN_CLUSTERS = 5
HAZARD_COLUMNS = ["covariate", "hazard_ratio", "ci_low", "ci_high", "p", "lineages", "events",
                  "note"]  # fmt: skip


# ------------------------------------------------------------------ the data
def _evolved(run: Run, ids: set[int], at: float) -> dict[str, float]:
    """Population-weighted mean genes of species ``ids`` at the last sample at or before tick ``at``."""
    ts = run.timeseries
    rows = ts[ts["species"].isin(ids) & (ts["tick"] <= at) & (ts["population"] > 0)]
    if not len(rows):
        return {g: math.nan for g in GENES}
    rows = rows[rows["tick"] == rows["tick"].max()]
    w = rows["population"].astype(float)
    return {g: float((rows[f"mean_{g}"] * w).sum() / w.sum()) for g in GENES}


def run_lineages(run: Run, arm: str = "", replicate: int = 0) -> pd.DataFrame:
    """The intelligent counted clades of one run, with their times and covariates (module doc)."""
    min_pop = int(run.config.get("detectors", {}).get("min_population", 50))
    cl = clades(run, min_pop)
    cl = cl[cl["counted"].astype(bool) & cl["intelligent_at"].notna()]
    founders = {s["name"]: s["genes"] for s in run.config.get("species", [])}
    rows = []
    for _, c in cl.iterrows():
        t_at, x_at = c["technological_at"], c["extinct_at"]
        event = int(pd.notna(t_at))
        stop = t_at if event else (x_at if pd.notna(x_at) else c["end"])
        row = {
            "arm": arm,
            "replicate": replicate,
            "clade": str(c["clade"]),
            "duration": max(float(stop) - float(c["intelligent_at"]), 0.0),
            "event": event,
            "extinct": bool(c["extinct"]),
        }
        genes = founders.get(str(c["clade"]), {})
        for g in GENES:
            row[f"founder_{g}"] = float(genes.get(g, {}).get("mean", math.nan))
            row[f"founder_{g}_max"] = float(genes.get(g, {}).get("max", math.nan))
        ids = set(int(i) for i in run.species.loc[run.species["root"] == c["root_id"], "id"])
        for g, v in _evolved(run, ids, float(c["intelligent_at"])).items():
            row[f"evolved_{g}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def lineages(runs: Iterable[tuple[str, int, str | Path]]) -> pd.DataFrame:
    """:func:`run_lineages` of every run folder given as (arm, replicate, folder), concatenated."""
    parts = [run_lineages(load_run(f), arm, int(k)) for arm, k, f in runs]
    return concat_lineages(parts)


def concat_lineages(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """:func:`run_lineages` tables of several runs as one (the empty ones left out)."""
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def experiment_runs(folder: str | Path) -> list[tuple[str, int, Path]]:
    """(arm, replicate, run folder) of every finished replicate of an experiment folder."""
    out = []
    for cfg in sorted(Path(folder).glob("*/rep-*/summary.json")):
        run = cfg.parent
        if run.parent.name.startswith("_"):  # a shared base, not an arm
            continue
        if finished_summary(run):  # an interrupted run has a summary too: not a replicate yet
            out.append((run.parent.name, int(run.name.removeprefix("rep-")), run))
    return out


def founders_drawn(runs: Iterable[tuple[str, int, str | Path]]) -> bool:
    """Whether the founders' body plans were drawn per replicate from a prior (module doc).

    Args:
        runs: (arm, replicate, run folder) of the runs, as :func:`experiment_runs` gives them.

    Returns:
        True when a founding species of the same name has other genes in two replicates of one
        arm (read from each run's ``config.yaml``). With one replicate per arm nothing tells a
        drawn body plan from a chosen one: False.
    """
    seen: dict[tuple[str, str], str] = {}
    for arm, _k, folder in runs:
        config = parse_fast((Path(folder) / "config.yaml").read_text(encoding="utf-8")) or {}
        for s in config.get("species") or []:
            genes = json.dumps(s.get("genes"), sort_keys=True, default=str)
            if seen.setdefault((str(arm), str(s.get("name"))), genes) != genes:
                return True
    return False


# ----------------------------------------------------------------- the model
def _fit(df: pd.DataFrame, covariates: list[str], penalizer: float = 0.0) -> tuple[Any, str]:
    """lifelines' CoxPHFitter on ``df`` (``duration``, ``event``, covariates).

    With several arms: strata ``arm``, and the variance clustered by ``replicate`` (lifelines'
    robust sandwich estimator), because a replicate's arms share one tree of life, so its
    lineages are counted once per arm and are not independent.

    Returns:
        (the fit, or None when lifelines could not fit; "" or why the fit is not estimable: the
        first ``ConvergenceWarning`` lifelines gave, in a few words).
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    cols = ["duration", "event", *covariates]
    strata = cluster = None
    if "arm" in df and df["arm"].nunique() > 1:
        cols.append("arm")
        strata = ["arm"]
    if _clustered(df):
        cols.append("replicate")
        cluster = "replicate"
    data = df[cols].copy()
    for c in covariates:
        data[c] = data[c] / PER
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = CoxPHFitter(penalizer=penalizer).fit(
                data, duration_col="duration", event_col="event", strata=strata,
                cluster_col=cluster,
            )  # fmt: skip
        except ConvergenceError:
            return None, "lifelines could not fit it (singular information matrix)"
    flagged = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    return fit, _why(flagged[0]) if flagged else ""


def _clustered(df: pd.DataFrame) -> bool:
    """Whether :func:`_fit` clusters the variance of ``df`` by replicate (several arms)."""
    return "arm" in df and df["arm"].nunique() > 1 and "replicate" in df


def _why(message: str) -> str:
    """A lifelines ``ConvergenceWarning`` in a few words."""
    if "separation" in message and "variance when conditioned" in message:
        return (
            "complete separation (the trait alone tells the lineages with technology from the rest)"
        )
    if "separation" in message or "non-unique" in message:
        return (
            "complete separation (the trait orders the events perfectly; the ratio runs to 0 or ∞)"
        )
    if "low variance" in message:
        return "the trait hardly varies"
    return "the fit did not converge (lifelines)"


def _rows(fit: Any, covariates: list[str], n: int, events: int, note: str = "") -> list[dict]:
    """One :data:`HAZARD_COLUMNS` row per covariate of ``fit``; NaN numbers when ``note`` says
    why it is not estimable."""
    s = fit.summary if fit is not None else None
    out = []
    for c in covariates:
        nums = [math.nan] * 4
        if s is not None and not note:
            nums = [float(s.at[c, k]) for k in
                    ("exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p")]  # fmt: skip
            if not all(math.isfinite(v) for v in nums[:3]):
                nums, note = [math.nan] * 4, "an infinite interval"
        out.append(dict(zip(HAZARD_COLUMNS, [c, *nums, n, events, note])))
    return out


def default_covariates(df: pd.DataFrame, traits: Sequence[str] = TRAITS) -> list[str]:
    """``founder_<t>``, ``founder_<t>_max`` and ``evolved_<t>`` of each trait, where ``df`` has them."""
    want = [f"{kind}_{t}{suffix}" for t in traits
            for kind, suffix in (("founder", ""), ("founder", "_max"), ("evolved", ""))]  # fmt: skip
    return [c for c in want if c in df]


def trait_hazards(
    df: pd.DataFrame, covariates: Sequence[str] | None = None, min_events: int = MIN_EVENTS
) -> pd.DataFrame:
    """Hazard ratio of technology per 0.1 of each covariate, one Cox fit per covariate (module doc).

    A covariate is not estimable (NaN, and ``note`` says why) without variation over the
    lineages with a value, with fewer than ``min_events`` events among them, or when lifelines
    flags its fit (complete separation, no convergence; module doc).
    """
    covariates = list(covariates) if covariates is not None else default_covariates(df)
    out = []
    for c in covariates:
        d = df[df[c].notna()] if c in df else df.iloc[0:0]
        n, events = len(d), int(d["event"].sum()) if len(d) else 0
        why = ""
        if n < 2 or d[c].nunique() < 2:
            why = "no variation" if n else "no lineage with a value"
        elif events < max(min_events, 1):
            why = "no event" if events == 0 else f"too few events ({events} < {min_events})"
        elif _clustered(d) and (k := d["replicate"].nunique()) < MIN_CLUSTERS:
            why = f"too few replicates for the clustered variance ({k} < {MIN_CLUSTERS})"
        if why:
            out.append(dict(zip(HAZARD_COLUMNS, [c, *[math.nan] * 4, n, events, why])))
            continue
        fit, why = _fit(d, [c])
        out += _rows(fit, [c], n, events, why)
    return pd.DataFrame(out, columns=HAZARD_COLUMNS)


def joint_hazards(
    df: pd.DataFrame, covariates: Sequence[str], penalizer: float = 0.01
) -> pd.DataFrame:
    """All ``covariates`` in one Cox model (ridge ``penalizer``): hazard ratios per 0.1, adjusted.

    ``note`` on every row when lifelines flags the fit (module doc); no events-per-variable rule:
    the caller who fits it decides whether the events carry that many traits.
    """
    d = df.dropna(subset=list(covariates))
    fit, why = _fit(d, list(covariates), penalizer)
    return pd.DataFrame(
        _rows(fit, list(covariates), len(d), int(d["event"].sum()), why), columns=HAZARD_COLUMNS
    )


# ------------------------------------------------------------------------ n
def n_ratio(
    per_replicate: pd.DataFrame, draws: int = BOOT_DRAWS, seed: int = BOOT_SEED
) -> dict[str, float]:
    """n = intelligent / technological clades over all replicates, with a bootstrap 95 % interval.

    Args:
        per_replicate: one row per replicate with ``intelligent`` and ``technological``
            (clade counts; :func:`clade_counts`).
        draws, seed: the bootstrap over replicates (resampled with replacement).

    Returns:
        ``n``, ``ci_low``, ``ci_high`` (inf where no technological clade is in the sample),
        ``intelligent``, ``technological``, ``replicates``.
    """
    i = per_replicate["intelligent"].to_numpy(float)
    t = per_replicate["technological"].to_numpy(float)
    k = len(i)

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else math.inf

    if k == 0:
        return {"n": math.nan, "ci_low": math.nan, "ci_high": math.nan, "intelligent": 0,
                "technological": 0, "replicates": 0}  # fmt: skip
    pick = np.random.default_rng(seed).integers(0, k, size=(draws, k))
    si, st = i[pick].sum(axis=1), t[pick].sum(axis=1)
    boot = np.where(st > 0, si / np.where(st > 0, st, 1.0), np.inf)
    # no interpolation: an interval end may be infinite (resamples without a technological clade)
    lo, hi = np.quantile(boot, [ALPHA / 2, 1 - ALPHA / 2], method="inverted_cdf")
    return {"n": ratio(i.sum(), t.sum()), "ci_low": float(lo), "ci_high": float(hi),
            "intelligent": int(i.sum()), "technological": int(t.sum()), "replicates": k}  # fmt: skip


def clade_counts(df: pd.DataFrame, runs: Iterable[tuple] = ()) -> pd.DataFrame:
    """Per (arm, replicate) of a :func:`lineages` table: intelligent and technological clades.

    ``runs``: (arm, replicate, ...) of every run analysed, so that a replicate without an
    intelligent clade counts as one with none (it is a world of the sample all the same).
    """
    index = pd.MultiIndex.from_tuples([], names=["arm", "replicate"])
    out = pd.DataFrame({"intelligent": [], "technological": []}, index=index)
    if len(df):
        g = df.groupby(["arm", "replicate"])
        out = pd.DataFrame({"intelligent": g.size(), "technological": g["event"].sum()})
    every = pd.MultiIndex.from_tuples(
        sorted({*out.index, *((str(r[0]), int(r[1])) for r in runs)}), names=["arm", "replicate"]
    )
    return out.reindex(every, fill_value=0).astype("int64").reset_index()


BLOCKED_COLUMNS = ["group", "arm", "intelligent", "technological", "share", "diff", "diff_low",
                   "diff_high"]  # fmt: skip


def blocked_effects(
    df: pd.DataFrame, min_dexterity: float = 0.6, aquatic: float = 0.5, control: str = "control"
) -> pd.DataFrame:
    """Per arm and blocked group (``handless``, ``aquatic``): intelligent clades and how many got technology.

    Args:
        df: a :func:`lineages` table.
        min_dexterity: a founder whose dexterity bound is below this is ``handless`` (the
            ladder's highest ``min_dexterity``; earthlike's metallurgy: 0.6).
        aquatic: a founder whose mean habitat is below this is ``aquatic``.
        control: the control arm: ``diff`` is the arm's share technological minus the control's
            in the same group, with Newcombe's 95 % interval (``diff_low``, ``diff_high``; the
            arms as independent samples, which is conservative when they share replicates);
            NaN for the control and where it has no clade of the group.
    """
    groups = {
        "handless": df["founder_dexterity_max"] < min_dexterity,
        "aquatic": df["founder_habitat"] < aquatic,
    }
    rows = []
    for name, mask in groups.items():
        g = df[mask]
        base = g[g["arm"] == control]
        for arm, d in g.groupby("arm"):
            k, n = int(d["event"].sum()), len(d)
            diff = (math.nan,) * 3
            if arm != control and len(base):
                diff = newcombe(k, n, int(base["event"].sum()), len(base), ALPHA)
            rows.append({"group": name, "arm": arm, "intelligent": n, "technological": k,
                         "share": k / n, "diff": diff[0], "diff_low": diff[1],
                         "diff_high": diff[2]})  # fmt: skip
    return pd.DataFrame(rows, columns=BLOCKED_COLUMNS)


def analyse_experiment(
    folder: str | Path, control: str = "control", lineage_table: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Everything above for an experiment folder (``evosim experiment --out FOLDER``).

    ``lineage_table``: :func:`lineages` of the folder's finished runs when the caller has
    already built it (from runs it loaded anyway); else the runs are loaded here.

    Returns:
        ``lineages`` (:func:`lineages`), ``hazards`` (:func:`trait_hazards` over the ``control``
        arm's lineages), ``hazards_all_arms`` (over every arm, stratified by arm), ``n`` (one row
        per arm: :func:`n_ratio`) and ``blocked`` (:func:`blocked_effects`).
    """
    runs = experiment_runs(folder)
    df = lineages(runs) if lineage_table is None else lineage_table
    counts = clade_counts(df, runs)
    arms = sorted({str(r[0]) for r in runs})
    n = pd.DataFrame([{"arm": a, **n_ratio(counts[counts["arm"] == a])} for a in arms])
    if not len(df):
        empty = pd.DataFrame()
        return {"lineages": df, "hazards": empty, "hazards_all_arms": empty, "n": n,
                "blocked": empty}  # fmt: skip
    return {
        "lineages": df,
        "hazards": trait_hazards(df[df["arm"] == control]),
        "hazards_all_arms": trait_hazards(df),
        "n": n,
        "blocked": blocked_effects(df, control=control),
    }
