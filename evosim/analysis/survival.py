"""Technology as a time-to-event: survival analysis of an experiment's runs and clades (lifelines).

A run, or a clade, that has not become technological when the run ends is
*censored*: it has not got there yet, which is not a failure. So the report
reads technology as curves over time (docs/experiments.md, "Reading the
answer"), with the estimators of the ``lifelines`` library:

- **First technological species, per arm** (one observation per run): the
  Kaplan–Meier estimate of the ticks, and of the FLOP, to the first
  technological species. A run without one is censored at its last tick (its
  total compute), except a run whose world died out (``ended: extinct``): it
  is known never to get there, so it is censored at the horizon.
- **Per founding clade, from intelligence to technology** (one observation
  per intelligent counted clade): time from the clade's first intelligent
  species to its first technological species. Extinction competes (a clade
  that dies out never gets there, and KM would treat it as censored), so the
  cumulative incidence of technology is the Aalen–Johansen estimate with
  extinction as the competing event; a clade alive at the end without
  technology is censored at the run's last tick.
- **Median and restricted mean** (RMST: the area under the KM curve up to a
  horizon, the mean time to the event capped at the horizon) with 95 %
  intervals (lifelines' exponential Greenwood interval for the median, its
  variance for the RMST), at the stated horizons.
- **Arm vs control**: lifelines' log-rank test, and a Cox proportional-hazards
  model of the arm indicator stratified by replicate (the arms share their
  replicate seeds, so each replicate is its own stratum: the hazard ratio
  compares each seed with itself). Per clade, the same Cox model on the
  cause-specific hazard of technology (extinction censors).

:func:`survival_table` gives the long table written to ``survival.csv``:
one row per (analysis, arm, clade, statistic, horizon) with ``value``,
``ci_low`` and ``ci_high``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: the analyses of survival.csv
ANALYSES = (
    "first_technological_ticks",
    "first_technological_flop",
    "clade_intelligent_to_technological",
)
SURVIVAL_COLUMNS = [
    "analysis",
    "arm",
    "clade",
    "statistic",
    "horizon",
    "value",
    "ci_low",
    "ci_high",
]
#: Aalen-Johansen breaks tied event times by a small jitter; seeded so that reports are reproducible
AJ_SEED = 0
ALPHA = 0.05


# ---------------------------------------------------------------- the data
def run_times(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run (rows of runs.csv): ``ticks``, ``flop`` and ``event`` (1: a technological species) of the first one.

    Censoring: module doc.
    """
    tick = runs["first_technological_tick"].astype(float)
    event = tick.notna()
    end = np.where(runs["ended"].astype(str) == "extinct", runs["horizon"], runs["ticks_run"])
    return pd.DataFrame(
        {
            "arm": runs["arm"].to_numpy(),
            "replicate": runs["replicate"].to_numpy(),
            "ticks": np.where(event, tick, end).astype(float),
            "flop": np.where(event, runs["first_technological_flop"], runs["flop_total"]).astype(
                float
            ),
            "event": event.astype(int).to_numpy(),
        }
    )


def clade_times(clades: pd.DataFrame) -> pd.DataFrame:
    """Per intelligent counted clade (rows of clades.csv): ``duration`` from intelligence and ``event``.

    ``event``: 1 technological, 2 extinct first (the competing event), 0 censored at the run's end.
    """
    c = clades[clades["counted"].astype(bool) & clades["intelligent_at"].notna()]
    t_at, x_at = c["technological_at"].astype(float), c["extinct_at"].astype(float)
    event = np.where(t_at.notna(), 1, np.where(x_at.notna(), 2, 0))
    stop = np.where(event == 1, t_at, np.where(event == 2, x_at, c["end"].astype(float)))
    return pd.DataFrame(
        {
            "arm": c["arm"].to_numpy(),
            "replicate": c["replicate"].to_numpy(),
            "clade": c["clade"].astype(str).to_numpy(),
            "duration": np.maximum(stop - c["intelligent_at"].astype(float).to_numpy(), 0.0),
            "event": event,
        }
    )


# ------------------------------------------------------------- estimators
def km(durations: Sequence[float], events: Sequence[int], label: str = "") -> Any:
    """lifelines' Kaplan-Meier fit (``event`` 1 observed, 0 censored)."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=ALPHA).fit(
        np.asarray(durations, float), np.asarray(events, int) == 1, label=label or None
    )


def aj(durations: Sequence[float], events: Sequence[int], label: str = "", of: int = 1) -> Any:
    """lifelines' Aalen-Johansen fit of the cumulative incidence of event ``of`` (others compete, 0 censors)."""
    from lifelines import AalenJohansenFitter

    with (
        warnings.catch_warnings()
    ):  # "tied event times were detected ... jittered": expected, seeded
        warnings.simplefilter("ignore")
        return AalenJohansenFitter(alpha=ALPHA, seed=AJ_SEED).fit(
            np.asarray(durations, float), np.asarray(events, int), event_of_interest=of,
            label=label or None,
        )  # fmt: skip


def _at(frame: pd.DataFrame, t: float) -> pd.Series:
    """Row of a step function (index: time) at time ``t`` (the last row at or before it)."""
    idx = frame.index.to_numpy(float)
    i = int(np.searchsorted(idx, t, side="right")) - 1
    return frame.iloc[max(i, 0)]


def rmst_variance(fit, horizon: float) -> float:
    """Sampling variance of a Kaplan-Meier fit's restricted mean survival time up to ``horizon``.

    Klein & Moeschberger (2003), eq. 4.4.4, as R's ``survRM2::rmst2``:
    ``sum over event times t_i <= horizon of A_i^2 d_i / (Y_i (Y_i - d_i))``, with ``A_i`` the
    area under the curve from ``t_i`` to the horizon, ``d_i`` events of ``Y_i`` at risk (a term
    with ``Y_i = d_i`` adds nothing). lifelines' ``restricted_mean_survival_time(...,
    return_variance=True)`` returns the variance of the truncated time itself, not of its
    estimator (lifelines issue 1682, open), so it cannot give an interval of the RMST.
    """
    sf = fit.survival_function_
    idx, s = sf.index.to_numpy(float), sf.iloc[:, 0].to_numpy(float)
    keep = idx <= horizon
    idx, s = idx[keep], s[keep]
    tail = np.cumsum((s * np.diff(np.append(idx, horizon)))[::-1])[::-1]  # area from idx[j] on
    et = fit.event_table
    t, d, y = (et.index.to_numpy(float), et["observed"].to_numpy(float),
               et["at_risk"].to_numpy(float))  # fmt: skip
    on = (d > 0) & (t <= horizon) & (y > d)
    a = tail[np.searchsorted(idx, t[on])]
    return float(np.sum(a**2 * d[on] / (y[on] * (y[on] - d[on]))))


def km_stats(fit, horizons: Sequence[float]) -> list[tuple[str, float, float, float, float]]:
    """(statistic, horizon, value, low, high) of a KM fit: median with its interval, and per horizon the
    RMST (± 1.96 standard errors, :func:`rmst_variance`, clipped to [0, horizon]) and the share that
    had the event (1 − S) with its interval."""
    from lifelines.utils import median_survival_times, restricted_mean_survival_time

    med = float(fit.median_survival_time_)
    ci = median_survival_times(fit.confidence_interval_)
    out = [("median", math.nan, med, float(ci.iloc[0, 0]), float(ci.iloc[0, 1]))]
    for h in horizons:
        mean = float(restricted_mean_survival_time(fit, t=h))  # exact for a KM step function
        half = 1.959963984540054 * math.sqrt(rmst_variance(fit, h))
        # a normal interval, clipped to [0, h] where the RMST lives
        out.append(("rmst", h, mean, max(mean - half, 0.0), min(mean + half, h)))
        s = _at(fit.survival_function_, h).iloc[0]
        lo_hi = _at(fit.confidence_interval_, h)
        out.append(
            (
                "share_with_event",
                h,
                1 - float(s),
                1 - float(lo_hi.iloc[1]),
                1 - float(lo_hi.iloc[0]),
            )
        )
    return out


def aj_stats(fit, horizons: Sequence[float]) -> list[tuple[str, float, float, float, float]]:
    """(statistic, horizon, value, low, high) of an AJ fit: the cumulative incidence at each horizon with
    its interval, and the time at which it first reaches 0.5 (NaN if it does not; no interval)."""
    cif = fit.cumulative_density_.iloc[:, 0]
    ci = fit.confidence_interval_cumulative_density_
    out = []
    for h in horizons:
        lo_hi = _at(ci, h)
        out.append(("incidence", h, float(_at(cif.to_frame(), h).iloc[0]), float(lo_hi.iloc[0]),
                    float(lo_hi.iloc[1])))  # fmt: skip
    reached = cif.index[cif.to_numpy() >= 0.5]
    out.append(
        ("median", math.nan, float(reached[0]) if len(reached) else math.nan, math.nan, math.nan)
    )
    return out


def compare(
    arm: pd.DataFrame, control: pd.DataFrame, duration: str = "ticks"
) -> list[tuple[str, float, float, float, float]]:
    """Log-rank p and the Cox hazard ratio (stratified by replicate) of ``arm`` against ``control``.

    Both frames have ``duration``, ``event`` (1 observed, anything else censors) and ``replicate``.
    The ratio is NaN when the model cannot be fitted (no event in either arm, lifelines fails to
    converge). When, within every replicate, the arm's events all come before the control's (or
    the reverse), the partial likelihood rises without bound (monotone likelihood; Heinze &
    Schemper 2001) and lifelines stops at a huge or tiny ratio with the Wald interval [0, inf]:
    the ratio is then given as its limit, inf (sooner) or 0 (later), with no interval and no p;
    the log-rank test is the test there.
    """
    from lifelines import CoxPHFitter
    from lifelines.statistics import logrank_test

    ea, ec = (arm["event"] == 1).astype(int), (control["event"] == 1).astype(int)
    out: list[tuple[str, float, float, float, float]] = []
    if ea.sum() + ec.sum() == 0:
        return [("logrank_p", math.nan, math.nan, math.nan, math.nan),
                ("cox_hr", math.nan, math.nan, math.nan, math.nan),
                ("cox_p", math.nan, math.nan, math.nan, math.nan)]  # fmt: skip
    lr = logrank_test(arm[duration], control[duration], ea, ec)
    out.append(("logrank_p", math.nan, float(lr.p_value), math.nan, math.nan))
    df = pd.DataFrame(
        {
            "duration": np.concatenate([arm[duration], control[duration]]).astype(float),
            "event": np.concatenate([ea, ec]),
            "treated": np.r_[np.ones(len(arm)), np.zeros(len(control))],
            "replicate": np.concatenate([arm["replicate"], control["replicate"]]),
        }
    )
    hr = lo = hi = p = math.nan
    if ea.sum() and ec.sum():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cph = CoxPHFitter(alpha=ALPHA).fit(df, "duration", "event", strata=["replicate"])
            row = cph.summary.loc["treated"]
            hr, p = float(row["exp(coef)"]), float(row["p"])
            lo, hi = float(row["exp(coef) lower 95%"]), float(row["exp(coef) upper 95%"])
        except Exception:  # noqa: BLE001 - lifelines' ConvergenceError and friends: no estimate
            pass
        if not math.isnan(hr) and not (lo > 0.0 and math.isfinite(hi)):  # monotone likelihood
            hr, lo, hi, p = (math.inf if hr > 1.0 else 0.0), math.nan, math.nan, math.nan
    out += [("cox_hr", math.nan, hr, lo, hi), ("cox_p", math.nan, p, math.nan, math.nan)]
    return out


# ------------------------------------------------------------------ table
def default_horizons(horizon: float) -> list[float]:
    """The stated horizons of the RMST and incidences: half the run's horizon and the horizon."""
    return [float(horizon) / 2, float(horizon)]


def survival_table(
    runs: pd.DataFrame,
    clades: pd.DataFrame,
    arms: list[str],
    control: str,
    horizons: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The long table of ``survival.csv`` (module doc): per analysis, arm and clade, every statistic.

    Args:
        runs: runs.csv rows (:func:`evosim.analysis.outcomes.analyse_run`).
        clades: clades.csv rows.
        arms, control: the experiment's arms and its control arm.
        horizons: the tick horizons of the RMST and incidences (default :func:`default_horizons`
            of the longest run's horizon).

    Counts per arm: ``n``, ``events`` (and for clades ``extinct``), ``censored`` and
    ``censored_share``.
    """
    rt, ct = run_times(runs), clade_times(clades)
    hs = list(horizons) if horizons is not None else default_horizons(float(runs["horizon"].max()))
    rows: list[tuple] = []

    def add(analysis: str, arm: str, clade: str, stats: list[tuple]) -> None:
        rows.extend((analysis, arm, clade, *s) for s in stats)

    def counts(ev: np.ndarray, competing: bool = False) -> list[tuple]:
        n, cens = len(ev), int((ev == 0).sum())
        out: list[tuple]
        out = [
            ("n", math.nan, n, math.nan, math.nan),
            ("events", math.nan, int((ev == 1).sum()), math.nan, math.nan),
        ]
        if competing:
            out.append(("extinct", math.nan, int((ev == 2).sum()), math.nan, math.nan))
        out += [("censored", math.nan, cens, math.nan, math.nan),
                ("censored_share", math.nan, cens / n if n else math.nan, math.nan, math.nan)]  # fmt: skip
        return out

    ctl = rt[rt["arm"] == control]
    for arm in arms:
        r = rt[rt["arm"] == arm]
        if not len(r):
            continue
        add("first_technological_ticks", arm, "", counts(r["event"].to_numpy()))
        add("first_technological_ticks", arm, "", km_stats(km(r["ticks"], r["event"]), hs))
        flop_fit = km(r["flop"], r["event"])
        add("first_technological_flop", arm, "", km_stats(flop_fit, [])[:1])
        if arm != control and len(ctl):
            add("first_technological_ticks", arm, "", compare(r, ctl, "ticks"))
            add("first_technological_flop", arm, "", compare(r, ctl, "flop"))
    for name in pd.unique(ct["clade"]):
        cc = ct[(ct["clade"] == name) & (ct["arm"] == control)]
        for arm in arms:
            c = ct[(ct["clade"] == name) & (ct["arm"] == arm)]
            if not len(c):
                continue
            ev = c["event"].to_numpy()
            add("clade_intelligent_to_technological", arm, name, counts(ev, competing=True))
            add(
                "clade_intelligent_to_technological", arm, name, aj_stats(aj(c["duration"], ev), hs)
            )
            if arm != control and len(cc):
                add("clade_intelligent_to_technological", arm, name, compare(c, cc, "duration"))
    return pd.DataFrame(rows, columns=SURVIVAL_COLUMNS)


def stat(table: pd.DataFrame, analysis: str, arm: str, statistic: str, clade: str = "",
         horizon: float | None = None) -> float:  # fmt: skip
    """One ``value`` of a :func:`survival_table` (NaN if absent)."""
    t = table[(table["analysis"] == analysis) & (table["arm"] == arm) & (table["statistic"] == statistic)
              & (table["clade"].fillna("") == clade)]  # fmt: skip
    if horizon is not None:
        t = t[np.isclose(t["horizon"].astype(float), horizon)]
    return float(t["value"].iloc[0]) if len(t) else math.nan


# ------------------------------------------------------------------- n(T)
#: plateau of n(T): largest change, over the last quarter of the horizon, of any founding clade's share of
#: replicates in which it is intelligent (technological) by T, and relative change of the arm's totals
N_PLATEAU_TOLERANCE = 0.05
N_GRID = 100


def n_by_tick(
    clades: pd.DataFrame, arms: list[str], horizon: int, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """n(T) = intelligent ÷ technological clades by tick T, per arm, on a grid of ``N_GRID`` + 1 ticks.

    A counted clade is intelligent (technological) by T when its first intelligent (technological)
    species was detected at or before T (clades.csv ``intelligent_at``, ``technological_at``). Per arm
    and T: ``intelligent`` and ``technological`` (clades per replicate), ``n`` (their ratio summed over
    replicates, as the report's n; inf when none is technological) with a 95% bootstrap interval
    (replicates resampled, the same draws for every arm and tick).

    Returns:
        Columns ``arm``, ``tick``, ``intelligent``, ``technological``, ``n``, ``n_low``, ``n_high``.
    """
    grid = np.unique(np.round(np.linspace(0, horizon, N_GRID + 1)).astype(np.int64))
    c = clades[clades["counted"].astype(bool)]
    reps = sorted(pd.unique(clades["replicate"])) if len(clades) else []
    rng = np.random.default_rng(seed)
    idx = (
        rng.integers(0, len(reps), size=(n_boot, len(reps)))
        if reps
        else np.zeros((n_boot, 0), np.int64)
    )
    rows = []
    for arm in arms:
        ca = c[c["arm"] == arm]
        present = sorted(pd.unique(clades.loc[clades["arm"] == arm, "replicate"]))
        if not present:
            continue
        ri = {r: i for i, r in enumerate(reps)}
        intel = np.full((len(reps), len(grid)), np.nan)
        tech = np.full((len(reps), len(grid)), np.nan)
        for r in present:
            cr = ca[ca["replicate"] == r]
            ia = cr["intelligent_at"].astype(float).to_numpy()[:, None]
            ta = cr["technological_at"].astype(float).to_numpy()[:, None]
            intel[ri[r]] = (ia <= grid[None, :]).sum(axis=0)
            tech[ri[r]] = (ta <= grid[None, :]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            n = np.nansum(intel, axis=0) / np.nansum(tech, axis=0)
            draws = np.nansum(intel[idx], axis=1) / np.nansum(tech[idx], axis=1)  # (B, G)
        lo, hi = np.full(len(grid), np.nan), np.full(len(grid), np.nan)
        for j in range(len(grid)):
            d = draws[:, j][~np.isnan(draws[:, j])]
            if d.size:
                lo[j], hi[j] = np.quantile(d, [0.025, 0.975], method="inverted_cdf")
        for j, t in enumerate(grid):
            rows.append((arm, int(t), float(np.nanmean(intel[:, j])), float(np.nanmean(tech[:, j])),
                         float(n[j]), float(lo[j]), float(hi[j])))  # fmt: skip
    return pd.DataFrame(
        rows, columns=["arm", "tick", "intelligent", "technological", "n", "n_low", "n_high"]
    )


def n_plateau(clades: pd.DataFrame, arm: str, horizon: int) -> float:
    """The tick from which n(T) of ``arm`` has plateaued, or NaN if it has not within the horizon.

    Plateaued (issue 20's criterion): for every founding clade, the share of replicates in which it is
    intelligent by T, and the share in which it is technological by T, stay within
    :data:`N_PLATEAU_TOLERANCE` of their values at the horizon from that tick on; so do the arm's
    totals (all intelligent clades, all technological clades by T), within that fraction of their
    values at the horizon; and that tick is at or before three quarters of the horizon (the plateau
    spans at least the last quarter). The totals matter when the founders are drawn per replicate
    (a tree of life): each founder name then has few events, and per-name shares of 1/48 would
    call any count flat.
    """
    c = clades[(clades["arm"] == arm) & clades["counted"].astype(bool)]
    n_reps = clades.loc[clades["arm"] == arm, "replicate"].nunique()
    if not n_reps:
        return math.nan
    grid = np.unique(np.round(np.linspace(0, horizon, N_GRID + 1)).astype(np.int64))
    ok = np.ones(len(grid), bool)
    for _, g in c.groupby("clade"):
        for col in ("intelligent_at", "technological_at"):
            at = g[col].astype(float).to_numpy()[:, None]
            share = (at <= grid[None, :]).sum(axis=0) / n_reps
            ok &= np.abs(share - share[-1]) < N_PLATEAU_TOLERANCE
    # the arm's totals, relative to their values at the horizon
    for col in ("intelligent_at", "technological_at"):
        total = (c[col].astype(float).to_numpy()[:, None] <= grid[None, :]).sum(axis=0)
        ok &= np.abs(total - total[-1]) <= N_PLATEAU_TOLERANCE * total[-1]
    # the earliest tick from which every later tick is within the tolerance
    bad = np.nonzero(~ok)[0]
    start = grid[bad[-1] + 1] if len(bad) else grid[0]
    return float(start) if start <= 0.75 * horizon else math.nan
