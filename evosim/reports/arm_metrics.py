"""The report's metrics over replicates, with paired bootstrap intervals (docs/experiments.md).

Each metric is computed per arm from the per-run rows of
:func:`evosim.analysis.outcomes.analyse_run`. Replicates are resampled with
replacement, the same draw for every arm (replicate k has the same seed in
every arm), so each arm's difference from the control -- and the compute
saving factor, the control's restricted-mean FLOP to the first technological
species divided by the arm's -- has a paired interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: (metric, label, kind, numerator column, denominator column). kind "mean" averages the column over
#: the replicates where it is defined; "ratio" is sum(numerator) / sum(denominator) over replicates;
#: "saving" is the control's mean of the column divided by the arm's (paired draws).
METRICS = [
    ("intelligent_clades", "intelligent clades / replicate", "mean", "intelligent_clades", None),
    ("technological_clades", "technological clades / replicate", "mean", "technological_clades", None),
    ("n_clades", "n (clades) = intelligent / technological clades", "ratio", "intelligent_clades",
     "technological_clades"),
    ("lost_clades", "intelligent clades extinct, never technological / replicate", "mean",
     "lost_clades", None),
    ("climbing_share", "share of intelligent clades still climbing at the horizon (censored)", "ratio",
     "open_clades", "intelligent_clades"),
    ("technological_share_settled", "share technological at the plateau (technological / intelligent clades "
     "decided: technological, settled or extinct)", "ratio", "technological_clades", "decided_clades"),
    ("intelligent", "intelligent species / replicate", "mean", "intelligent", None),
    ("technological", "technological species / replicate", "mean", "technological", None),
    ("n", "n = intelligent / technological", "ratio", "intelligent", "technological"),
    ("stuck_share", "share of intelligent never technological", "ratio", "stuck", "intelligent"),
    ("lost_species", "intelligent species extinct, never technological / replicate", "mean",
     "lost_species", None),
    ("p_technological", "P(a technological species)", "mean", "any_technological", None),
    ("ticks_to_first_intelligent", "ticks to first intelligent", "mean", "first_intelligent_tick",
     None),
    ("ticks_to_first_intelligent_rmean", "ticks to first intelligent (restricted mean)", "mean",
     "first_intelligent_tick_r", None),
    ("ticks_to_first_technological", "ticks to first technological", "mean",
     "first_technological_tick", None),
    ("ticks_to_first_technological_rmean", "ticks to first technological (restricted mean)", "mean",
     "first_technological_tick_r", None),
    ("flop_to_first_intelligent", "FLOP to first intelligent", "mean", "first_intelligent_flop",
     None),
    ("flop_to_first_intelligent_rmean", "FLOP to first intelligent (restricted mean)", "mean",
     "first_intelligent_flop_r", None),
    ("flop_to_first_technological", "FLOP to first technological", "mean",
     "first_technological_flop", None),
    ("flop_to_first_technological_rmean", "FLOP to first technological (restricted mean)", "mean",
     "first_technological_flop_r", None),
    ("compute_saving", "compute saving factor (control ÷ arm, restricted-mean FLOP to first "
     "technological)", "saving", "first_technological_flop_r", None),
    ("neural_to_first_intelligent_rmean", "neural FLOP to first intelligent (restricted mean)", "mean",
     "first_intelligent_neural_flop_r", None),
    ("neural_to_first_technological_rmean", "neural FLOP to first technological (restricted mean)",
     "mean", "first_technological_neural_flop_r", None),
    ("tech_vs_intel_flop", "compute to first technological ÷ to first intelligent, FLOP (activity)",
     "mean", "tech_intel_flop_ratio", None),
    ("tech_vs_intel_neural", "compute to first technological ÷ to first intelligent, neural FLOP",
     "mean", "tech_intel_neural_ratio", None),
    *((f"tech_vs_intel_neural_{k}", f"compute to first technological ÷ to first intelligent, neural "
       f"FLOP with k = {k[1:]}", "mean", f"tech_intel_neural_ratio_{k}", None) for k in ("k1", "k2", "k3")),
]  # fmt: skip
#: conditional means: over the replicates where something happened ("(in k)" in the tables)
CONDITIONAL = (
    "ticks_to_first_intelligent",
    "ticks_to_first_technological",
    "flop_to_first_intelligent",
    "flop_to_first_technological",
    "tech_vs_intel_flop",
    "tech_vs_intel_neural",
    "tech_vs_intel_neural_k1",
    "tech_vs_intel_neural_k2",
    "tech_vs_intel_neural_k3",
)


def _stat(
    table: dict[str, np.ndarray], kind: str, num: str, den: str | None, idx: np.ndarray
) -> np.ndarray:
    """Metric for each row of replicate-index draws ``idx`` (B, R); NaN where undefined, inf for x/0, x > 0."""
    x = table[num][idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "ratio":
            assert den is not None
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
    The ``saving`` metric is a ratio to the control already: its ``diff`` columns are NaN.
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
        # a column missing from ``runs`` (rows of an older evosim) leaves its metrics undefined
        tables[arm] = {
            c: d[c].to_numpy(np.float64) if c in d else np.full(len(d), math.nan) for c in cols
        }
        counts[arm] = int(d["ended"].notna().sum()) if len(d) else 0
    rows = []
    for metric, label, kind, num, den in METRICS:
        base = "mean" if kind == "saving" else kind

        def stat(a: str, ix: np.ndarray, base=base, num=num, den=den) -> np.ndarray:
            return _stat(tables[a], base, num, den, ix)

        est = {a: float(stat(a, full)[0]) if reps else math.nan for a in arms}
        draws = {a: stat(a, idx) if reps else np.full(n_boot, math.nan) for a in arms}
        if kind == "saving":  # control ÷ arm, on the same replicate draws
            with np.errstate(invalid="ignore", divide="ignore"):
                est = {a: est[control] / est[a] for a in arms}
                draws = {a: draws[control] / draws[a] for a in arms}
        for a in arms:
            lo, hi = _ci(draws[a])
            defined = int((~np.isnan(tables[a][num])).sum()) if reps else 0
            r = {"arm": a, "metric": metric, "label": label, "value": est[a], "ci_low": lo, "ci_high": hi,
                 "replicates": counts[a], "replicates_defined": defined if kind == "mean" else counts[a]}  # fmt: skip
            if a == control or kind == "saving":
                r.update(diff=math.nan, diff_low=math.nan, diff_high=math.nan)
            else:
                with np.errstate(invalid="ignore"):
                    dl, dh = _ci(draws[a] - draws[control])
                    r.update(diff=est[a] - est[control], diff_low=dl, diff_high=dh)
            rows.append(r)
    return pd.DataFrame(rows)
